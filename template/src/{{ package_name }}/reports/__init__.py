"""The reports domain: a CPU-heavy report on a project, computed by a background job."""
