"""The service package; the application factory is main.create_app."""

__version__ = "0.1.0"
