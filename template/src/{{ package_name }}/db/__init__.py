"""Database infrastructure: engine, sessions, declarative base."""
