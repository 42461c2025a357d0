"""Shared fixtures: dbt manifests prepared once, and a throwaway lake and warehouse."""

import os
import uuid
from pathlib import Path

import pytest

from data_platform.factory import prepare_manifest
from data_platform.locations import LOCATIONS
from data_platform.settings import LAKE_ROOT_ENV, WAREHOUSE_DIR_ENV


@pytest.fixture(scope="session", autouse=True)
def platform_storage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Point the lake and the warehouse at temporary folders for the whole session."""
    root = tmp_path_factory.mktemp("platform")
    paths = {"lake": root / "lake", "warehouse": root / "warehouse"}
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
def prepared_manifests(platform_storage: dict[str, Path]) -> None:
    """Prepare every location's manifest ahead, as CI and the Docker build do."""
    for location in LOCATIONS:
        prepare_manifest(location.name)


@pytest.fixture(scope="session")
def azurite():
    """Azurite's blob service on 127.0.0.1 (npm), for the lake on ADLS.

    Skipped with its reason where node/npm cannot provide it, unless
    ``PLATFORM_REQUIRE_AZURITE=1`` (set by ``.ci/run``), which makes that a failure.
    """
    from tests.stack.azurite import AzuriteUnavailable, running_azurite

    try:
        with running_azurite() as server:
            yield server
    except AzuriteUnavailable as reason:
        if os.environ.get("PLATFORM_REQUIRE_AZURITE") == "1":
            pytest.fail(f"{reason} (PLATFORM_REQUIRE_AZURITE=1)", pytrace=False)
        pytest.skip(str(reason))


@pytest.fixture(params=["local", "azurite"])
def any_lake(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh, empty lake: a local folder, then a new container on Azurite.

    Tests that touch the lake take this fixture so that they run against both.
    """
    from data_platform.lake import Lake, parse_lake_root

    if request.param == "local":
        return Lake(str(tmp_path / "lake"))
    server = request.getfixturevalue("azurite")
    container = f"lake-{uuid.uuid4().hex[:12]}"
    server.create_container(container)
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    return parse_lake_root(f"abfs://{container}@devstoreaccount1.dfs.core.windows.net/lake")
