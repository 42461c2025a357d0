"""The production stack for real: the image built and run by ``docker compose`` on a Docker engine.

``docker compose up --build --wait`` with a throwaway ``.env`` (random PostgreSQL password, free
port on 127.0.0.1), then, through the webserver's GraphQL API: every code location loaded, a run
of a few assets (raw files landed, their staging model built by dbt) goes
through the queue and ends in SUCCESS, a location reloads without its container restarting;
then the ``docker-runs`` profile: switching without ``down`` is refused by the engine, and after
``down`` a run gets a container of its own. Each test asks for the profile it needs (fixtures
``local_stack`` and ``docker_runs_stack``), so any of them passes alone and in any order.
Everything is removed afterwards (``down -v``); the images are kept as a cache.

Needs root (to start ``dockerd``), ``docker.io`` and ``debootstrap`` (see tests/stack/
docker_harness.py for the stand-in base images). Without an engine the tests skip with the
reason, unless ``PLATFORM_REQUIRE_DOCKER=1`` (CI), which makes that a failure.
"""

import json
import os
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from data_platform.locations import LOCATIONS
from data_platform.settings import REPO_ROOT
from tests.stack import graphql
from tests.stack.docker_harness import (
    CommandFailed,
    ComposeProject,
    DockerUnavailable,
    compose_binary,
    ensure_base_images,
    ensure_docker_engine,
    remove_containers_with_label,
    run,
    write_env_file,
)
from tests.stack.processes import free_port, wait_until

pytestmark = [pytest.mark.containers, pytest.mark.xdist_group("compose")]

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
IMAGE_REPOSITORY = "fwb-data-platform"
IMAGE_TAG = "stack-test"  # kept between runs: the next build starts from its layers
NAMES = [location.name for location in LOCATIONS]
UP_TIMEOUT = 1800  # a cold build (dependencies, bytecode, dbt parse) on 2 cores, then start-up
RUN_TIMEOUT = 1200
# The run of each profile: the basketball fixtures landed in the lake's volume and their staging
# model built in the warehouse's. The stack starts with empty volumes, and dbt also runs the
# tests that touch a selected model (eager indirect selection): this branch is the one whose
# tests read nothing else.
LOCATION = "ags_project"
SELECTION = ["ags/raw/awbb/club_matches", "ags/stg_awbb__club_matches"]


def unavailable(reason: str) -> None:
    """Skip (printing the reason) or, with ``PLATFORM_REQUIRE_DOCKER=1``, fail."""
    message = f"no Docker engine for the container tests: {reason}"
    if os.environ.get("PLATFORM_REQUIRE_DOCKER") == "1":
        pytest.fail(message + " (PLATFORM_REQUIRE_DOCKER=1)", pytrace=False)
    print(message)
    pytest.skip(message)


def compose_environment() -> dict[str, str]:
    """Return this environment less the variables of .env.example and ``COMPOSE_*``: only the
    env file counts."""
    lines = (REPO_ROOT / ".env.example").read_text().splitlines()
    names = {line.split("=", 1)[0].strip() for line in lines if "=" in line}
    return {
        name: value
        for name, value in os.environ.items()
        if name not in names and not name.startswith("COMPOSE_")
    }


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Path:
    """A running engine with the stand-in base images; returns the folder of the logs."""
    reason = ensure_docker_engine()
    if reason:
        unavailable(reason)
    try:
        compose_binary()
    except DockerUnavailable as error:
        unavailable(str(error))
    logs = tmp_path_factory.mktemp("compose_stack")
    started = time.monotonic()
    built = ensure_base_images(logs / "base-images.log")
    print(f"stand-in base images built: {built or 'none (cached)'}"
          f" in {time.monotonic() - started:.0f} s")  # fmt: skip
    return logs


@pytest.fixture(scope="module")
def project(engine: Path) -> ComposeProject:
    """A compose project with its own name, password, port and env file; removed at the end."""
    name = f"fwbtest{secrets.token_hex(4)}"
    env_file = engine / "stack.env"
    port, docs_port = free_port(), free_port()
    write_env_file(
        env_file,
        {
            "ENVIRONMENT": "staging",
            "COMPOSE_PROJECT_NAME": name,
            "COMPOSE_PROFILES": "local-runs",
            "DAGSTER_IMAGE": IMAGE_REPOSITORY,
            "DAGSTER_IMAGE_TAG": IMAGE_TAG,
            "DAGSTER_RESTART_POLICY": "no",
            "DAGSTER_ENV_FILE": str(env_file),
            "DAGSTER_WEBSERVER_BIND": "127.0.0.1",
            "DAGSTER_WEBSERVER_PORT": str(port),
            "DBT_DOCS_BIND": "127.0.0.1",
            "DBT_DOCS_PORT": str(docs_port),
            "DATA_PLATFORM_DBT_DOCS_URL": f"http://127.0.0.1:{docs_port}",
            "DAGSTER_POSTGRES_USER": "dagster",
            "DAGSTER_POSTGRES_PASSWORD": secrets.token_urlsafe(24),
            "DAGSTER_POSTGRES_DB": "dagster",
            "DAGSTER_DOCKER_GID": str(os.stat("/var/run/docker.sock").st_gid)
            if os.path.exists("/var/run/docker.sock")
            else "0",
        },
    )
    compose = ComposeProject(
        name=name,
        compose_file=COMPOSE_FILE,
        env_file=env_file,
        log=engine / "compose.log",
        environment=compose_environment(),
        webserver_port=port,
    )
    yield compose
    remove_containers_with_label(f"fwb-data-platform.stack={name}")
    for profile in ("docker-runs", "local-runs"):
        compose.environment["COMPOSE_PROFILES"] = profile
        compose.run("down", "--volumes", "--remove-orphans", "--timeout", "20", check=False)
    remove_containers_with_label(f"com.docker.compose.project={name}")


def url(project: ComposeProject) -> str:
    """Return the base URL of the project's webserver."""
    return f"http://127.0.0.1:{project.webserver_port}"


def up(project: ComposeProject, *extra: str) -> float:
    """``up --wait`` the project; return the seconds it took. Fails with the services' logs."""
    started = time.monotonic()
    try:
        project.run("up", *extra, "--wait", "--wait-timeout", "900", timeout=UP_TIMEOUT)
    except CommandFailed as error:
        pytest.fail(f"{error}\n--- service logs\n{project.logs()}", pytrace=False)
    return time.monotonic() - started


def containers(project: ComposeProject) -> dict[str, dict]:
    """Return ``{service: docker compose ps entry}`` of the running project."""
    output = project.run("ps", "--all", "--format", "json")
    entries = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return {entry["Service"]: entry for entry in entries}


def exec_in(project: ComposeProject, service: str, command: str) -> str:
    """Run a shell command in a service's container and return its output."""
    return project.run("exec", "-T", service, "sh", "-c", command, timeout=120)


PROFILE_SERVICES = {
    "local-runs": ["dagster-webserver", "dagster-daemon"],
    "docker-runs": ["dagster-webserver-docker-runs", "dagster-daemon-docker-runs"],
}
"""The services that differ between the profiles (the rest is shared and keeps running)."""


FAILED_PROFILES: set[str] = set()
"""Profiles whose ``up`` failed: the next test of that profile fails at once."""


def switch_profile(project: ComposeProject, profile: str) -> ComposeProject:
    """Bring the project up with ``profile`` (building the image the first time).

    The webserver and daemon of another profile that is up are removed first, as
    ``docker-compose.yml`` documents the switch (two profiles at once are refused, see
    ``test_both_profiles_at_once_...``); PostgreSQL, the code servers and the volumes are shared
    by both profiles and keep running.
    """
    if project.active_profile == profile:
        return project
    if project.active_profile is not None:
        services = PROFILE_SERVICES[project.active_profile]
        project.run("rm", "--stop", "--force", *services, timeout=600)
    if profile in FAILED_PROFILES:
        message = f"`up` of profile {profile} failed earlier in this module (logs: that test)"
        pytest.fail(message, pytrace=False)
    project.environment["COMPOSE_PROFILES"] = profile
    FAILED_PROFILES.add(profile)
    seconds = up(project, *([] if project.built else ["--build"]))
    FAILED_PROFILES.discard(profile)
    project.built, project.active_profile = True, profile
    print(f"docker compose up ({profile}) --wait: {seconds:.0f} s")
    return project


@pytest.fixture
def local_stack(project: ComposeProject) -> ComposeProject:
    """The stack of the default profile (local-runs), built and healthy."""
    return switch_profile(project, "local-runs")


@pytest.fixture
def docker_runs_stack(project: ComposeProject) -> ComposeProject:
    """The stack of the ``docker-runs`` profile (a container per run), healthy."""
    return switch_profile(project, "docker-runs")


def test_every_service_is_healthy_and_unprivileged(local_stack):
    services = containers(local_stack)
    expected = {"postgres", "dagster-webserver", "dagster-daemon", "dbt-docs"}
    expected |= {f"code-{name.replace('_', '-')}" for name in NAMES}
    running = {name for name, entry in services.items() if entry["State"] == "running"}
    assert expected <= running, services
    for name in expected:
        assert services[name]["Health"] == "healthy", (name, services[name])
    assert services["stack-profiles"]["ExitCode"] == 0
    assert services["dagster-migrate"]["ExitCode"] == 0
    for name in expected - {"postgres"}:
        assert exec_in(local_stack, name, "id -u").strip() == "1000", name
    # The manifests were prepared at build time, the env of dagster.yaml reached the processes.
    listing = exec_in(local_stack, "code-ags-project", "ls dbt_submodules/ags_dbt/target")
    assert "manifest.json" in listing
    environment = exec_in(local_stack, "dagster-daemon", "env")
    assert "ENVIRONMENT=staging" in environment and "DAGSTER_POSTGRES_HOST=postgres" in environment
    # The UI is published on the loopback only.
    port = local_stack.run("port", "dagster-webserver", "3000").strip()
    assert port == f"127.0.0.1:{local_stack.webserver_port}", port


def test_dbt_docs_are_served_and_linked_from_the_assets(local_stack):
    docs = local_stack.run("port", "dbt-docs", "3001").strip()
    assert docs.startswith("127.0.0.1:"), docs
    with urllib.request.urlopen(f"http://{docs}/index.html", timeout=30) as answer:  # noqa: S310
        index = answer.read().decode()
    for location in LOCATIONS:
        assert f'href="{location.dbt_project}/index.html"' in index
        with urllib.request.urlopen(  # noqa: S310 - loopback
            f"http://{docs}/{location.dbt_project}/index.html", timeout=30
        ) as page:
            assert page.status == 200
    environment = exec_in(local_stack, "code-ags-project", "env")
    assert f"DATA_PLATFORM_DBT_DOCS_URL=http://{docs}" in environment


def test_every_location_loads(local_stack):
    statuses = graphql.wait_for_locations(url(local_stack), NAMES, timeout=300)
    assert {name: status["error"] for name, status in statuses.items()} == dict.fromkeys(NAMES)
    assert all(statuses[name]["loaded"] for name in NAMES), statuses


PREPARED = (
    "from data_platform.dbt_profile import DbtSettings, is_prepared;"
    "from data_platform.locations import LOCATIONS;"
    "print(sorted(l.name for l in LOCATIONS"
    " if not is_prepared(l.dbt_project_dir, DbtSettings.from_environment(l.dbt_project))))"
)


def test_the_images_manifests_were_prepared_for_the_containers_lake(local_stack):
    """The build stage prepared each manifest with the lake and warehouse the runs use, so no
    code server re-parses at start and every run keeps dbt's partial parsing."""
    assert exec_in(local_stack, "code-data-platform", f'python -c "{PREPARED}"').strip() == "[]"


def test_a_queued_run_materializes_a_few_assets(local_stack):
    base = url(local_stack)
    graphql.wait_for_locations(base, NAMES, timeout=300)
    run_id = graphql.launch_location_run(base, LOCATION, SELECTION)
    status = graphql.wait_for_run(base, run_id, timeout=RUN_TIMEOUT)
    assert status == "SUCCESS", f"run {run_id}: {status}\n{local_stack.logs()}"
    assert graphql.run_details(base, run_id)["materialized"] == set(SELECTION)
    clubs = "ls /data/lake/raw/awbb_cpliege_matches/clubs/*.csv | wc -l"
    assert exec_in(local_stack, "dagster-daemon", clubs).strip() == "69"
    assert "ags.duckdb" in exec_in(local_stack, "dagster-daemon", "ls /data/warehouse")
    # Compute logs are shared with the webserver (the UI's stdout/stderr of each step).
    logs = exec_in(local_stack, "dagster-webserver", f"ls /opt/dagster/home/storage/{run_id}")
    assert "compute_logs" in logs


def test_a_location_reloads_without_restarting_its_container(local_stack):
    base = url(local_stack)
    graphql.wait_for_locations(base, NAMES, timeout=300)
    inspect = ["docker", "inspect", "--format", "{{.State.StartedAt}}"]
    container = containers(local_stack)["code-ags-project"]["Name"]
    before = run([*inspect, container]).stdout
    graphql.reload_location(base, "ags_project")
    statuses = graphql.wait_for_locations(base, ["ags_project"], timeout=300)
    assert statuses["ags_project"]["loaded"], statuses
    assert run([*inspect, container]).stdout == before


def test_both_profiles_at_once_are_refused_by_the_engine(local_stack):
    project = local_stack
    # Switching without `down` would start a second daemon: the engine refuses it.
    project.environment["COMPOSE_PROFILES"] = "docker-runs"
    try:
        refused = project.run("up", "--wait", "--wait-timeout", "120", check=False, timeout=600)
    finally:
        project.environment["COMPOSE_PROFILES"] = "local-runs"
    assert "is already in use" in refused, refused
    daemons = run(["docker", "ps", "--filter", f"name={project.name}-dagster-daemon", "-q"])
    assert len(daemons.stdout.split()) == 1


def test_docker_runs_profile_gives_each_run_its_own_container(docker_runs_stack, tmp_path):
    project = docker_runs_stack
    services = containers(project)
    assert services["dagster-daemon-docker-runs"]["Health"] == "healthy", services
    assert "dagster-daemon" not in services
    base = url(project)
    graphql.wait_for_locations(base, NAMES, timeout=300)
    # The run's own container, read from the engine's events as they happen: it is removed once
    # the run ended (auto_remove), so `docker ps --all` may no longer list it, and the engine keeps
    # only its last 256 events (health checks fill them), so they are not read afterwards.
    image, stack = f"{IMAGE_REPOSITORY}:{IMAGE_TAG}", project.name
    log = tmp_path / "events.log"
    with log.open("w") as out:
        watcher = subprocess.Popen(
            ["docker", "events", "--since", str(int(time.time())), "--filter", "type=container",
             "--filter", f"label=fwb-data-platform.stack={stack}",
             "--filter", "event=create", "--filter", "event=start", "--filter", "event=destroy",
             "--format", '{{.Action}} {{.Actor.Attributes.image}}'
             ' {{index .Actor.Attributes "dagster/run_id"}}'],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        run_id = graphql.launch_location_run(base, LOCATION, SELECTION)
        status = graphql.wait_for_run(base, run_id, timeout=RUN_TIMEOUT)
        assert status == "SUCCESS", f"run {run_id}: {status}\n{project.logs()}"

        def lifecycle() -> list[str] | None:
            events = [line for line in log.read_text().splitlines() if line.endswith(run_id)]
            return events if f"destroy {image} {run_id}" in events else None

        events = wait_until(lifecycle, 120, f"the removal of run {run_id}'s container", interval=5,
                            process=watcher, log=log)  # fmt: skip
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)
    assert events[:2] == [f"create {image} {run_id}", f"start {image} {run_id}"], events
