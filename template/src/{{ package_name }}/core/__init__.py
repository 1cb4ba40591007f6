"""Cross-cutting infrastructure: settings, logging, domain errors, shared field constraints."""
