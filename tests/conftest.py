"""Shared fixtures: dbt manifests prepared once, and a throwaway lake and warehouse."""

import os
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
