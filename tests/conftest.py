"""Shared fixtures: dbt manifests prepared once, the real data built once, throwaway storage.

Under pytest-xdist every worker runs the session fixtures of its own; those that must happen
once per session (the manifests, the materialization of the real data, the dbt docs site) run
under a file lock in a folder shared by the workers (:func:`tests.stack.session.once_per_session`).
"""

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from unittest import mock

import dagster as dg
import pytest

from data_platform.locations import LOCATIONS
from data_platform.settings import LAKE_ROOT_ENV, REPO_ROOT, WAREHOUSE_DIR_ENV
from tests.platform_build import storage
from tests.stack.session import once_per_session


def run_module(module: str, *args: str, env: dict[str, str] | None = None) -> None:
    """Run ``python -m module *args`` from the repository in a process of its own.

    Raises:
        RuntimeError: it exited non-zero; the message holds the end of its standard error.
    """
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"python -m {module} failed:\n{result.stderr[-6000:]}")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups into the node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses Azurite ``azurite``, and keep them on one xdist worker.

    One worker starts Azurite (and installs it with npm on first use) for all of them.
    """
    for item in items:
        if "azurite" in getattr(item, "fixturenames", ()) or item.get_closest_marker("azurite"):
            item.add_marker(pytest.mark.azurite)
            item.add_marker(pytest.mark.xdist_group("azurite"))


@pytest.fixture(scope="session", autouse=True)
def platform_storage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Point the lake and the warehouse at temporary folders for the whole session."""
    paths = storage(tmp_path_factory.mktemp("platform"))
    previous = {name: os.environ.get(name) for name in (LAKE_ROOT_ENV, WAREHOUSE_DIR_ENV)}
    os.environ[LAKE_ROOT_ENV] = str(paths["lake"])
    os.environ[WAREHOUSE_DIR_ENV] = str(paths["warehouse"])
    yield paths
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def prepared_manifests(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Prepare every location's manifest ahead, once per session, as CI and the image do."""

    def prepare(_: Path) -> None:
        # `make prepare`, as CI and the image run it, with the lake and the warehouse of this
        # session: the session's runs pass the same --vars, so they keep dbt's partial parsing.
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        run_module("data_platform.tools.prepare", env=env)

    once_per_session(tmp_path_factory, "manifests", prepare)


@dataclass(frozen=True)
class PlatformBuild:
    """Every location materialized in full on the real data (``tests/platform_build.py``).

    Attributes:
        root: folder holding ``lake/``, ``warehouse/`` and ``dagster_home/`` (SQLite instance).
        run_ids: ``{location name: id of the run that materialized it}``.
    """

    root: Path
    run_ids: dict[str, str]

    @property
    def lake(self) -> Path:
        return storage(self.root)["lake"]

    @property
    def warehouse(self) -> Path:
        return storage(self.root)["warehouse"]

    @contextmanager
    def instance(self) -> Iterator[dg.DagsterInstance]:
        """Open the build's Dagster instance (runs, events, asset checks) to read it."""
        with dg.DagsterInstance.from_config(str(self.root / "dagster_home")) as instance:
            yield instance

    def copy_storage(self, destination: Path) -> dict[str, Path]:
        """Copy the lake and the warehouse for a test that writes (small selections on top).

        Returns:
            ``{"lake": folder, "warehouse": folder}`` under ``destination``.
        """
        copies = storage(destination)
        for name, folder in storage(self.root).items():
            shutil.copytree(folder, copies[name], dirs_exist_ok=True)
        return copies


def build_platform(tmp_path_factory: pytest.TempPathFactory) -> PlatformBuild:
    """Return the session's build of the real data, building it first if no worker did."""

    def build(root: Path) -> None:
        run_module("tests.platform_build", str(root))

    root = once_per_session(tmp_path_factory, "platform_build", build)
    return PlatformBuild(root, json.loads((root / "run_ids.json").read_text()))


@pytest.fixture(scope="session")
def platform_build(tmp_path_factory: pytest.TempPathFactory, prepared_manifests) -> PlatformBuild:
    """The real data of every location, built once per session (read-only for the tests).

    Tests that write copy it first (:meth:`PlatformBuild.copy_storage`).
    """
    return build_platform(tmp_path_factory)


@pytest.fixture(scope="session")
def azurite():
    """Azurite's blob service on 127.0.0.1 (npm), for the lake on ADLS.

    Skipped with its reason where node/npm cannot provide it, unless
    ``PLATFORM_REQUIRE_AZURITE=1`` (set by ``.ci/run``), which makes that a failure.
    """
    from tests.stack.azurite import running_azurite
    from tests.stack.processes import NodeToolUnavailable

    try:
        with running_azurite() as server:
            yield server
    except NodeToolUnavailable as reason:
        unavailable(reason, "PLATFORM_REQUIRE_AZURITE")


@pytest.fixture(scope="session")
def gitlab_ci_local() -> Path:
    """gitlab-ci-local (npm, :mod:`tests.stack.gitlab_ci_local`), installed on first use.

    Skipped with its reason without node or npm, unless ``PLATFORM_REQUIRE_NODE=1`` (set by
    ``.ci/run``), which makes that a failure.
    """
    from tests.stack import gitlab_ci_local
    from tests.stack.processes import NodeToolUnavailable, npm_executable

    try:
        return npm_executable(
            gitlab_ci_local.PREFIX, "gitlab-ci-local", gitlab_ci_local.VERSION, "gitlab-ci-local"
        )
    except NodeToolUnavailable as reason:
        unavailable(reason, "PLATFORM_REQUIRE_NODE")


def unavailable(reason: Exception, variable: str) -> NoReturn:
    """Skip the test for ``reason``, or fail it when ``variable`` is ``1`` (as ``.ci/run`` sets)."""
    if os.environ.get(variable) == "1":
        pytest.fail(f"{reason} ({variable}=1)", pytrace=False)
    pytest.skip(str(reason))


@pytest.fixture(params=["local", pytest.param("azurite", marks=pytest.mark.azurite)])
def any_lake(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh, empty lake: a local folder, then a new container on Azurite.

    Tests that touch the lake take this fixture so that they run against both.
    """
    from data_platform.lake import Lake, parse_lake_root

    if request.param == "local":
        (tmp_path / "lake").mkdir()
        return Lake(str(tmp_path / "lake"))
    server = request.getfixturevalue("azurite")
    container = f"lake-{uuid.uuid4().hex[:12]}"
    server.create_container(container)
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    return parse_lake_root(f"abfs://{container}@devstoreaccount1.dfs.core.windows.net/lake")


@pytest.fixture(scope="session")
def docs_url() -> str:
    """Base URL of this worker's dbt docs site (the assets link to it; served on demand)."""
    from tests.stack.processes import free_port

    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def dbt_docs_site(tmp_path_factory: pytest.TempPathFactory, prepared_manifests, docs_url: str):
    """The dbt docs of every location, built once per session and served at ``docs_url``.

    Served by the platform's own command (``python -m data_platform.tools.docs_site serve``).
    """
    from data_platform.tools.docs_site import build_site
    from tests.stack.processes import stop_process, wait_for_http

    site = once_per_session(tmp_path_factory, "dbt_docs", build_site)
    port = docs_url.rsplit(":", 1)[1]
    log = tmp_path_factory.mktemp("dbt_docs_serve") / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "data_platform.tools.docs_site", "serve", "--dir", str(site),
             "--port", port],
            cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_http(f"{docs_url}/index.html", server, log, timeout=60)
        yield site
    finally:
        stop_process(server)


@pytest.fixture(scope="session")
def process_stack(tmp_path_factory: pytest.TempPathFactory, prepared_manifests, docs_url: str):
    """The production stack as processes, on a copy of the session's lake and warehouse.

    Shared by the stack and browser tiers (their tests carry ``xdist_group("process_stack")``
    so that one worker starts it once). The stack starts while the real data is built (here or
    by another worker): the copy lands in its lake and warehouse before any test runs.
    """
    from data_platform.environment import AUTOMATION_INTERVAL
    from tests.stack import graphql
    from tests.stack.process_stack import running_process_stack

    work = tmp_path_factory.mktemp("process_stack")
    # Automation stays off (the sensors' default); when a test starts its sensors, they tick
    # every 5 s rather than every 30 s (tests/test_automation.py).
    fast_ticks = mock.patch.dict(os.environ, {AUTOMATION_INTERVAL.name: "5"})
    with ThreadPoolExecutor(max_workers=1) as pool, fast_ticks:
        build = pool.submit(build_platform, tmp_path_factory)
        with running_process_stack(work / "stack", storage(work / "storage"), docs_url) as stack:
            build.result().copy_storage(work / "storage")
            # The copied data was built outside this instance: say so, as an operator restoring
            # a lake would, so that the UI knows every upstream asset exists.
            statuses = graphql.wait_for_locations(stack.url, [loc.name for loc in LOCATIONS])
            assert all(status["loaded"] for status in statuses.values()), statuses
            for location in LOCATIONS:
                graphql.report_materializations(stack.url, location.name, "copied from the build")
            yield stack
