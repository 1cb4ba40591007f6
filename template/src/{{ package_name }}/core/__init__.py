"""Cross-cutting infrastructure: settings, logging, domain errors."""
