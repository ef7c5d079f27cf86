"""How the production processes are run: their commands, what each is given, the gateway config.

Standard library only (an import-linter contract checks it), so the Docker build, compose's
checks, `make run` (taskflow_local) and the tests all use the same definitions without pulling
in the developer's runner or any service's dependencies.
"""
