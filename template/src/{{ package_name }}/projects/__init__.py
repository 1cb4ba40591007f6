"""The projects domain: projects belong to a user."""
