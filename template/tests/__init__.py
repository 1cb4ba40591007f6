"""The service's tests: a real database, one rolled-back transaction per test."""
