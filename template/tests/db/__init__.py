"""Tests of the database layer: sessions, migrations."""
