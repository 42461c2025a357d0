# The two commands of the README are `make dev` (run the platform) and `make test` (run the
# tests). Both install what they need first; uv is installed with pip when it is missing.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
LOCATIONS := data_platform ags_project agaj_project
DBT_PROJECTS := data_platform_dbt ags_dbt agaj_dbt
export DAGSTER_HOME ?= $(CURDIR)/.local/dagster_home

.PHONY: install prepare dev test lint format clean

$(UV):
	python3 -m pip install --user --quiet uv || python3 -m pip install --quiet uv

install: $(UV)
	$(UV) sync --frozen

## Prepare every dbt project's manifest.json ahead (dbt parse), as CI and the image do.
prepare: install
	$(UV) run python -m data_platform.prepare

## Run the platform locally: Dagster UI on http://127.0.0.1:3000 with every code location, and
## the dbt docs of every dbt project on http://127.0.0.1:3001 (built first, served beside the UI).
dev: install
	mkdir -p "$(DAGSTER_HOME)"
	$(UV) run python -m data_platform.docs_site serve --build --port 3001 & docs=$$!; \
	trap 'kill $$docs 2>/dev/null' EXIT; \
	$(UV) run dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

## Run the test suite (prepares manifests itself).
test: install
	$(UV) run pytest --cov=data_platform --cov=ags_project --cov=agaj_project --cov-report=term

lint: install prepare
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	# The dbt templater opens each project's DuckDB file: its folder must exist.
	mkdir -p .local/warehouse
	for project in $(DBT_PROJECTS); do \
		(cd dbt_submodules/$$project && ../../.venv/bin/sqlfluff lint models tests) || exit 1; \
	done

format: install
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

clean:
	rm -rf .local dbt_submodules/*/target dbt_submodules/*/logs
