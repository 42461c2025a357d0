import json
import subprocess
import sys
from pathlib import Path

import pytest

from data_platform.factory import ManifestError, build_location_definitions, dbt_project
from data_platform.locations import LOCATIONS
from tests.stack.platform import copy_platform

pytestmark = pytest.mark.usefixtures("prepared_manifests")

PROBE = Path(__file__).with_name("workspace_probe.py")


def test_broken_manifest_raises_a_clear_error_naming_the_location(tmp_path, monkeypatch):
    project = dbt_project("agaj_project")
    broken = tmp_path / "manifest.json"
    broken.write_text('{"nodes": {')
    monkeypatch.setattr(type(project), "manifest_path", property(lambda self: broken))
    with pytest.raises(ManifestError) as error:
        build_location_definitions("agaj_project")
    assert "'agaj_project'" in str(error.value)
    assert str(broken) in str(error.value)
    assert "not valid JSON" in str(error.value)


def test_one_broken_location_leaves_the_others_loaded(tmp_path):
    platform = copy_platform(tmp_path / "platform")
    manifest = platform / "dbt_submodules" / "agaj_dbt" / "target" / "manifest.json"
    manifest.write_text(manifest.read_text()[:1000])  # truncated, as by an interrupted write

    result = subprocess.run(
        [sys.executable, str(PROBE), "workspace.yaml"],
        cwd=platform,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout.strip().splitlines()[-1])

    assert set(status) == {location.name for location in LOCATIONS}
    assert status["data_platform"]["loaded"] and status["data_platform"]["assets"] > 0
    assert status["ags_project"]["loaded"] and status["ags_project"]["assets"] > 0
    assert not status["agaj_project"]["loaded"]
    error = status["agaj_project"]["error"]
    assert "Code location 'agaj_project'" in error
    assert str(manifest) in error
    assert "not valid JSON" in error
