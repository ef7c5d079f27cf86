"""The developer's runner: `make run` (honcho), embedded PostgreSQL and Redis when no URLs are
configured, dev keys, `make demo`, and the process helper of the tests and benchmarks.

Never imported by production code (an import-linter contract checks it); its dependencies are
the `local` dependency group, which the image does not install.
"""
