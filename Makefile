# The two commands of the README are `make dev` (run the platform) and `make test` (run the
# tests). Both install what they need first; uv is installed with pip when it is missing.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
# The hooks of .pre-commit-config.yaml that lint the dbt projects, one per project.
SQLFLUFF_HOOKS := $(shell sed -n 's/^ *id: \(sqlfluff-.*\)/\1/p' .pre-commit-config.yaml)
export DAGSTER_HOME ?= $(CURDIR)/.local/dagster_home
# Ports of `make dev` (the Dagster UI and the dbt docs beside it) and the docs site's folder.
DAGSTER_PORT ?= 3000
DBT_DOCS_PORT ?= 3001
DBT_DOCS_DIR ?= $(CURDIR)/.local/dbt_docs

# Workers of pytest-xdist: more than the 2 cores of CI, because the heavy tiers mostly wait (on
# Docker, on a queued run, on the browser) while the others use the CPU.
PYTEST_WORKERS ?= 4
# The fast tier: what needs no PostgreSQL, Docker, browser, Azurite nor the real data built.
FAST_TIER := not (slow or azurite or stack or browser or containers)

.PHONY: install prepare dev test test-fast bench lint format clean

$(UV):
	python3 -m pip install --user --quiet uv || python3 -m pip install --quiet uv

# Bytecode compiled once at install: every Python process of the platform and of its tests
# (Dagster, dbt, code servers, run workers) then imports compiled modules instead of compiling
# them again, which halves the CPU of each start where PYTHONDONTWRITEBYTECODE=1 is set (as on
# CI machines) and saves the first start elsewhere.
install: $(UV)
	$(UV) sync --frozen --compile-bytecode

## Prepare every dbt project's manifest.json ahead (dbt parse), as CI and the image do.
prepare: install
	$(UV) run python -m data_platform.tools.prepare

## Run the platform locally: Dagster UI on http://127.0.0.1:3000 with every code location, and
## the dbt docs of every dbt project on http://127.0.0.1:3001 (rebuilt when a manifest changed,
## served beside the UI). Automation is off unless DATA_PLATFORM_AUTOMATION=true is set.
dev: install
	mkdir -p "$(DAGSTER_HOME)"
	$(UV) run python -m data_platform.tools.docs_site serve --build-if-stale --dir "$(DBT_DOCS_DIR)" \
		--port $(DBT_DOCS_PORT) & docs=$$!; \
	trap 'kill $$docs 2>/dev/null' EXIT; \
	DATA_PLATFORM_DBT_DOCS_URL=$${DATA_PLATFORM_DBT_DOCS_URL:-http://127.0.0.1:$(DBT_DOCS_PORT)} \
	DATA_PLATFORM_AUTOMATION=$${DATA_PLATFORM_AUTOMATION:-false} \
		$(UV) run dagster dev -w workspace.yaml -h 127.0.0.1 -p $(DAGSTER_PORT)

## Run the whole test suite, every tier (prepares manifests itself; prints the slowest tests).
## --cov measures [tool.coverage.run] source_pkgs of pyproject.toml: every code location.
test: install
	$(UV) run pytest -n $(PYTEST_WORKERS) --dist loadgroup \
		--cov --cov-report=term

## The inner loop: the fast tier only (definitions, dbt unit tests, static checks), in minutes.
test-fast: install
	$(UV) run pytest -m "$(FAST_TIER)" -n 2 --dist loadgroup

## Measure the platform against stock dagster-dbt and plain dbt on synthetic projects (not a
## test: it never fails a build). BENCH_ARGS, e.g. "--sizes 100 --repeat 1", for a short run.
bench: install
	$(UV) run python -m benchmarks.bench $(BENCH_ARGS)

## The checks of .pre-commit-config.yaml on every file git knows (ruff, ruff format, mypy,
## detect-secrets, sqlfluff of each dbt project), as CI runs them. pre-commit runs its hooks one
## after the other; the sqlfluff hooks (a dbt compile each, most of the time) run here side by
## side, each in a pre-commit of its own, beside one for the other hooks: 14-20 s instead of
## 25-27 s on 2 cores (docs/ci.md). Each one's report is printed when all have finished.
lint: install prepare
	logs=$$(mktemp -d); status=0; pids=""; \
	for hook in $(SQLFLUFF_HOOKS); do \
		$(UV) run pre-commit run $$hook --all-files > $$logs/$$hook 2>&1 & pids="$$pids $$!"; \
	done; \
	SKIP=$$(tr ' ' , <<< "$(SQLFLUFF_HOOKS)") $(UV) run pre-commit run --all-files || status=1; \
	for pid in $$pids; do wait $$pid || status=1; done; \
	cat $$logs/*; rm -rf $$logs; exit $$status

format: install
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

clean:
	rm -rf .local dbt_submodules/*/target dbt_submodules/*/logs
