"""Embedded PostgreSQL and Redis for local runs and tests, when no URLs are configured."""
