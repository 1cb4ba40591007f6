"""Tests of the projects domain."""
