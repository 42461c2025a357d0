"""Every setting is declared once (``data_platform/environment.py``) and documented from there.

The README's configuration table is rendered from the declaration; ``.env.example`` names every
variable (one administration's for the per-administration ones) and neither it nor the compose
file, the Dockerfile nor the platform's code names an undeclared ``DATA_PLATFORM_*`` variable.
"""

import re

import dagster as dg
import pytest

from data_platform import environment
from data_platform.factory import build_location_definitions
from data_platform.locations import LOCATIONS
from data_platform.settings import REPO_ROOT

NAME = re.compile(r"DATA_PLATFORM_[A-Z_]*[A-Z]")


def declared(name: str) -> bool:
    """Tell whether ``name`` is a declared variable, for any administration."""
    return any(
        name == variable.for_admin(location.env_prefix)
        for variable in environment.VARIABLES
        for location in LOCATIONS
    )


def test_the_readme_table_is_rendered_from_the_declaration():
    readme = (REPO_ROOT / "README.md").read_text()
    assert environment.markdown_table() in readme, (
        "README.md, section Configuration: replace the platform's rows with\n"
        + environment.markdown_table()
    )


def test_env_example_names_every_declared_variable_and_no_other():
    text = (REPO_ROOT / ".env.example").read_text()
    names = set(NAME.findall(text))
    admin = LOCATIONS[1].env_prefix
    missing = {v.for_admin(admin) for v in environment.VARIABLES} - names
    # The warehouse is a folder of the image (/data/warehouse), not a deployment setting.
    assert missing == {environment.WAREHOUSE_DIR.name}, missing
    assert {name for name in names if not declared(name)} == set()


def test_no_file_names_an_undeclared_variable():
    files = [
        "docker-compose.yml",
        "Dockerfile",
        "dagster.yaml",
        "deploy/docker-runs/run_launcher.yaml",
    ]
    files += [
        str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "data_platform").rglob("*.py")
    ]
    for name in files:
        text = (REPO_ROOT / name).read_text()
        # Prefixes in prose (DATA_PLATFORM_SMTP_*, DATA_PLATFORM_NOTIFY_<ADMIN>_) are not names.
        names = {n for n in NAME.findall(text) if not re.search(re.escape(n) + r"(_\*|_<)", text)}
        assert {n for n in names if not declared(n) and n != "DATA_PLATFORM_NOTIFY"} == set(), name


def test_secrets_reach_the_resources_as_env_vars_and_the_ui_shows_the_other_values(monkeypatch):
    admin = LOCATIONS[1]
    monkeypatch.setenv(environment.NOTIFY_NTFY_TOKEN.for_admin(admin.env_prefix), "canary-token")
    monkeypatch.setenv(
        environment.NOTIFY_NTFY_URL.for_admin(admin.env_prefix), "http://ntfy.test/x"
    )
    monkeypatch.setenv(environment.SMTP_HOST.name, "smtp.fwb.test")
    monkeypatch.setenv(environment.LAKE_ROOT.name, "/data/lake")
    resources = build_location_definitions(admin.name).resources
    channels, storage = resources["notifications"], resources["storage"]
    assert isinstance(channels.ntfy_token, dg.EnvVar) and "canary-token" not in repr(channels)
    assert channels.smtp_host == "smtp.fwb.test"
    assert storage.lake_root == dg.EnvVar(environment.LAKE_ROOT.name)
    assert storage.process_config_and_initialize().lake().root == "/data/lake"


def test_boolean_variables_follow_one_rule_and_refuse_other_values(monkeypatch):
    from data_platform.automation import automation_enabled
    from data_platform.notifications import NotificationChannels

    admin = LOCATIONS[1]
    assert NotificationChannels.from_environment(admin).smtp_starttls is False  # the default
    for spelling, expected in [(" ON ", True), ("yes", True), ("0", False), ("Off", False)]:
        monkeypatch.setenv(environment.SMTP_STARTTLS.name, spelling)
        monkeypatch.setenv(environment.AUTOMATION.name, spelling)
        assert NotificationChannels.from_environment(admin).smtp_starttls is expected, spelling
        assert automation_enabled() is expected, spelling
    monkeypatch.setenv(environment.SMTP_STARTTLS.name, "sometimes")
    with pytest.raises(ValueError, match="DATA_PLATFORM_SMTP_STARTTLS='sometimes'"):
        NotificationChannels.from_environment(admin)
