# Test-only stand-in for ghcr.io/astral-sh/uv: the same uv binary the Makefile installs.
FROM scratch
COPY uv /uv
