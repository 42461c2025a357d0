"""The real data, materialized once per test session: ``python -m tests.platform_build <root>``.

Every registered code location is materialized in full on the real open data, into
``<root>/lake``, ``<root>/warehouse`` and a SQLite Dagster instance in ``<root>/dagster_home``;
the run ids are written last, to ``<root>/run_ids.json`` (``{location: run id}``), so that the
file's presence means the build finished. Locations run in waves: a location starts once every
location whose assets it reads (its non-materializable upstream keys) has run, so a new
administration needs no edit here. The build runs in a process of its own, so that the DuckDB
files are closed (checkpointed) when the tests read or copy them.

The tests reach it through the session fixture ``platform_build`` (``tests/conftest.py``), which
runs it once per session under a file lock shared by the pytest-xdist workers.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg

from data_platform.locations import LOCATIONS, location_of_dbt_project
from data_platform.settings import LAKE_ROOT_ENV, WAREHOUSE_DIR_ENV


def waves(definitions: dict[str, dg.Definitions]) -> list[list[str]]:
    """Order the locations so that each runs after the locations whose assets it reads.

    Args:
        definitions: ``{location name: its definitions}``.

    Returns:
        Lists of location names; the locations of one list read nothing from each other.

    Raises:
        ValueError: the locations read each other in a cycle.
    """
    needs: dict[str, set[str]] = {}
    for name, defs in definitions.items():
        graph = defs.resolve_asset_graph()
        external = {
            key.path[0]
            for key in graph.get_all_asset_keys()
            if not graph.get(key).is_materializable
        }
        needs[name] = {location_of_dbt_project(project).name for project in external} - {name}
    ordered: list[list[str]] = []
    done: set[str] = set()
    while len(done) < len(needs):
        ready = [name for name in needs if name not in done and needs[name] <= done]
        if not ready:
            raise ValueError(f"code locations read each other in a cycle: {needs}")
        ordered.append(ready)
        done.update(ready)
    return ordered


def storage(root: Path) -> dict[str, Path]:
    """Return the lake and warehouse folders under ``root``: ``{"lake": ..., "warehouse": ...}``.

    The lake folder is created: a lake root that is set must exist (data_platform.lake).
    """
    (root / "lake").mkdir(parents=True, exist_ok=True)
    return {"lake": root / "lake", "warehouse": root / "warehouse"}


def build(root: Path) -> dict[str, str]:
    """Materialize every location into ``root``; return ``{location: run id}``.

    Raises:
        dagster_dbt.errors.DagsterDbtError and others: a location cannot be loaded. A run that
            fails is not an error here: its id is returned and the tests read its status.
    """
    from data_platform.factory import build_location_definitions  # the locations load here

    folders = storage(root)
    os.environ[LAKE_ROOT_ENV] = str(folders["lake"])
    os.environ[WAREHOUSE_DIR_ENV] = str(folders["warehouse"])
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    definitions = {
        location.name: build_location_definitions(location.name) for location in LOCATIONS
    }
    run_ids: dict[str, str] = {}
    with dg.instance_for_test(temp_dir=str(home)) as instance:

        def run(name: str) -> str:
            job = definitions[name].resolve_implicit_global_asset_job_def()
            return job.execute_in_process(instance=instance, raise_on_error=False).run_id

        # The locations of one wave run at the same time: each writes its own DuckDB file and
        # reads the others' marts as Parquet, so none waits for a DuckDB lock.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for wave in waves(definitions):
                run_ids.update(zip(wave, pool.map(run, wave), strict=True))
    return run_ids


def main(argv: list[str]) -> int:
    """Build into ``argv[0]`` and write ``run_ids.json`` there; return the exit code."""
    root = Path(argv[0]).resolve()
    run_ids = build(root)
    (root / "run_ids.json").write_text(json.dumps(run_ids))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
