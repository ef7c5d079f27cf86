# Test-only stand-in for python:3.11-slim-bookworm, from Debian packages (no registry here).
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
# passwd: the app stage creates its user with groupadd/useradd, as on the official image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python-is-python3 passwd \
    && rm -rf /var/lib/apt/lists/*
