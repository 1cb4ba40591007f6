"""Tests of the users domain."""
