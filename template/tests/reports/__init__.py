"""Tests of the reports domain and of the background jobs that compute reports."""
