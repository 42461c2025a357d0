"""`make dev`, the README's command that runs the platform, as an engineer runs it.

One smoke test: the UI answers, every code location of ``data_platform/locations.py`` is loaded,
and the dbt docs are served beside it. It starts ``make dev`` itself (Dagster's ``dagster dev``
on the repository's ``workspace.yaml``) in a snapshot of the working tree, as a fresh clone is
(``make dev`` installs the virtualenv, ``dagster dev`` parses each dbt project on the fly,
without touching the manifests that the other tests read), on free ports, a throwaway Dagster
home, lake and warehouse, and the session's docs site (already built, so ``--build-if-stale``
serves it as is).
"""

import os
import signal
import subprocess
import urllib.request

import pytest

from data_platform.locations import LOCATIONS
from data_platform.settings import LAKE_ROOT_ENV, WAREHOUSE_DIR_ENV
from tests.stack import graphql
from tests.stack.platform import clean_environment, snapshot_worktree
from tests.stack.processes import free_port, wait_for_http

pytestmark = pytest.mark.stack

NAMES = [location.name for location in LOCATIONS]


def test_make_dev_serves_the_ui_with_every_location_and_the_dbt_docs(tmp_path, dbt_docs_site):
    checkout = snapshot_worktree(tmp_path / "checkout")
    port, docs_port = free_port(), free_port()
    env = clean_environment() | {
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        LAKE_ROOT_ENV: str(tmp_path / "lake"),
        WAREHOUSE_DIR_ENV: str(tmp_path / "warehouse"),
    }
    # A busy CI machine (the other tiers run beside this one) may take longer than dagster
    # dev's default 180 s to load a location; the throwaway instance allows 600 s.
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "lake").mkdir()  # a set lake root must exist (data_platform.lake.Lake.check)
    (tmp_path / "dagster_home" / "dagster.yaml").write_text(
        "code_servers:\n  local_startup_timeout: 600\n"
    )
    log = tmp_path / "make-dev.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", "dev", f"DAGSTER_PORT={port}", f"DBT_DOCS_PORT={docs_port}",
             f"DBT_DOCS_DIR={dbt_docs_site}"],
            cwd=checkout, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/server_info", process, log, timeout=600)
        statuses = graphql.wait_for_locations(url, NAMES, timeout=600)
        assert {name: statuses[name]["loaded"] for name in NAMES} == dict.fromkeys(NAMES, True), (
            statuses
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{docs_port}/index.html", timeout=30) as page:
            index = page.read().decode()
        for location in LOCATIONS:
            assert f'href="{location.dbt_project}/index.html"' in index
        assert "wrote " not in log.read_text(errors="replace"), "an up-to-date site was rebuilt"
    except (AssertionError, TimeoutError) as error:
        tail = log.read_text(errors="replace")[-4000:]
        raise AssertionError(f"{error}\n--- make dev (last lines)\n{tail}") from error
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
