# TaskFlow Pro. `make run` starts the whole stack; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .taskflow/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# Provides secrets and (when no URLs are set) embedded PostgreSQL/Redis, once per make invocation.
LOCAL := $(if $(TASKFLOW_ENV_READY),,$(BIN)/python -m taskflow_local exec --)
export PYTHONPATH := $(CURDIR)/src
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: drills run stop test checks lint typecheck contracts jstest pytest coverage bench bench-full demo superuser docker-env docker-test install install-test install-bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==0.13.9"

# Dependency groups (pyproject.toml): run = the runtime dependencies + `local` (embedded
# databases, honcho); bench = run + `bench`; test = run + `dev` + `bench` (mypy checks bench/ and
# the gate runs the bench smoke). The production image installs the runtime ones alone.
# One venv, one stamp per set: each sync installs exactly its groups (uv removes the rest), and
# a larger set already installed serves a smaller target, so targets never undo each other.
SYNC := $(UV) sync --frozen --quiet --no-default-groups
$(VENV)/.installed-run: pyproject.toml uv.lock | $(UV)
	$(SYNC) --group local
	rm -f $(VENV)/.installed-*
	touch $@

$(VENV)/.installed-test: pyproject.toml uv.lock | $(UV)
	$(SYNC) --group local --group dev --group bench
	rm -f $(VENV)/.installed-*
	touch $@

$(VENV)/.installed-bench: pyproject.toml uv.lock | $(UV)
	$(SYNC) --group local --group bench
	rm -f $(VENV)/.installed-*
	touch $@

install: $(firstword $(wildcard $(VENV)/.installed-test $(VENV)/.installed-bench) $(VENV)/.installed-run)
install-test: $(VENV)/.installed-test
install-bench: $(firstword $(wildcard $(VENV)/.installed-test) $(VENV)/.installed-bench)

run: install
	$(LOCAL) $(BIN)/python -m taskflow_local.stack

# Stops the `make run` stack started from this checkout (in another terminal, or a closed one).
stop: install
	$(BIN)/python -m taskflow_local stop

# With `make run` going in another terminal: two users, a team, a task, a notification on a socket.
demo: install
	$(BIN)/python -m taskflow_local.demo

# Interactive; or non-interactive with DJANGO_SUPERUSER_USERNAME/_EMAIL/_PASSWORD set.
superuser: install
	$(LOCAL) $(BIN)/python manage.py createsuperuser $(if $(DJANGO_SUPERUSER_USERNAME),--no-input)

# deploy/.env with fresh secrets and the JWT key pair for `docker compose -f deploy/compose.yaml up`.
docker-env: install
	$(BIN)/python -m taskflow_local.dockerenv

# deploy/compose.yaml on a real Docker engine (root; docker.io, docker-compose, debootstrap):
# local base images, the project's images, every container healthy, a user's first steps through
# the gateway, then down. See tests/docker/__main__.py and the README's Docker section.
docker-test: install-test
	$(BIN)/python -m tests.docker

# One set of embedded services (when no URLs are given) for the whole gate.
test: install-test
	$(LOCAL) $(MAKE) --no-print-directory checks

checks: lint typecheck contracts jstest coverage

# The whole suite, with branch coverage of src/ collected from every Python process it starts;
# fails under the floor in pyproject.toml ([tool.coverage.report] fail_under).
coverage: install-test
	rm -f .coverage .coverage.*
	$(LOCAL) env COVERAGE_FILE=$(CURDIR)/.coverage $(BIN)/pytest --cov --cov-report=term $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/hadolint deploy/Dockerfile

typecheck: install-test
	$(BIN)/mypy

contracts: install-test
	$(BIN)/lint-imports

# web/taskflow-client.js unit tests, with node's own test runner (no npm packages).
jstest:
	node --test tests/web/

pytest: install-test
	$(LOCAL) $(BIN)/pytest $(PYTEST_ARGS)

# Every fault drill (docs/reliability.md): real processes, real faults, minutes. `make test`
# runs only the fast ones.
drills: install-test
	$(LOCAL) $(BIN)/pytest tests/reliability -m 'drill or not drill' -v $(PYTEST_ARGS)

# Benchmarks P1-P6 (bench/): short mode in a few minutes; full mode holds P3's sockets 10 minutes.
# They work in a `<database>_bench` database of their own and rewrite bench/RESULTS.md.
bench: install-bench
	$(LOCAL) $(BIN)/python -m bench $(BENCH_ARGS)

bench-full: install-bench
	$(LOCAL) $(BIN)/python -m bench --full $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .taskflow .mypy_cache .ruff_cache .pytest_cache
