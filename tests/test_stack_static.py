"""Fast checks of the production stack's files: Dockerfile, docker-compose.yml, .env.example,
the instance files and the health checks. No Docker engine is needed (Compose only renders).

What the image holds once built (prepared manifests, user 1000, the instance files, the data
folders) is checked on the running stack by tests/test_compose_stack.py; here the image's
dependency layer is run as ``uv`` would run it, without Docker.
"""

import contextlib
import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from data_platform.locations import LOCATIONS
from data_platform.settings import REPO_ROOT
from data_platform.tools.workspaces import CODE_SERVER_PORT, STACK_WORKSPACE, code_server_host
from tests.stack.docker_harness import compose_binary
from tests.stack.processes import free_port, stop_process

BIN = Path(sys.executable).parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
DOCKERFILE = REPO_ROOT / "Dockerfile"
PYPROJECT = REPO_ROOT / "pyproject.toml"
LOCK_FILE = REPO_ROOT / "uv.lock"
INSTANCE_FILE = REPO_ROOT / "dagster.yaml"
RUN_LAUNCHER_FILE = REPO_ROOT / "deploy" / "docker-runs" / "run_launcher.yaml"
PROFILES = ("local-runs", "docker-runs")
PLACEHOLDERS = {"", "change-me", "changeme"}
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "ACCOUNT_KEY", "CONNECTION_STRING")


def env_example() -> dict[str, str]:
    """Return the ``NAME=value`` settings of .env.example."""
    settings = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if match:
            settings[match[1]] = match[2]
    return settings


def compose_variables() -> set[str]:
    """Return every variable docker-compose.yml interpolates (``$${...}`` escapes excluded)."""
    text = COMPOSE_FILE.read_text().replace("$$", "")
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))


def env_references(node) -> set[str]:
    """Return the variables of every ``{env: VAR}`` in a parsed instance file."""
    found = set()
    if isinstance(node, dict):
        if set(node) == {"env"} and isinstance(node["env"], str):
            return {node["env"]}
        for value in node.values():
            found |= env_references(value)
    elif isinstance(node, list):
        for value in node:
            found |= env_references(value)
    return found


def docker_runs_instance_text() -> str:
    """Return the DockerRunLauncher instance file, assembled as the Dockerfile does."""
    return INSTANCE_FILE.read_text() + "\n" + RUN_LAUNCHER_FILE.read_text()


def instance_files() -> dict[str, str]:
    """Return every Dagster instance file of the image: name -> text."""
    return {"dagster.yaml": INSTANCE_FILE.read_text(), "docker-runs": docker_runs_instance_text()}


def rendered_compose(profile: str, extra: dict[str, str] | None = None) -> dict:
    """Return ``docker compose config`` (JSON) of a profile, with only a dummy password set."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("COMPOSE_")}
    for name in compose_variables():
        env.pop(name, None)
    env.update({"COMPOSE_PROFILES": profile, "DAGSTER_POSTGRES_PASSWORD": "x", **(extra or {})})
    result = subprocess.run(
        [compose_binary(), "-f", COMPOSE_FILE, "--env-file", os.devnull, "config", "--format",
         "json"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module", params=PROFILES)
def rendered(request) -> dict:
    return rendered_compose(request.param)


def test_compose_file_matches_the_compose_spec():
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE_FILE],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [BIN / "hadolint", DOCKERFILE], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def dockerfile_instructions() -> list[tuple[str, str]]:
    """Return the Dockerfile's ``(INSTRUCTION, arguments)``, continuation lines joined."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue  # also allowed between continuation lines
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        keyword, _, arguments = current.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def dependency_layer() -> tuple[list[str], list[str]]:
    """Return the files the image's dependency layer copies and its ``uv sync`` command.

    Returns:
        The sources of the ``COPY`` before the first ``RUN uv sync`` (``pyproject.toml``,
        ``uv.lock``), and that command's words up to its first ``&&``.
    """
    instructions = dockerfile_instructions()
    for index, (keyword, arguments) in enumerate(instructions):
        words = shlex.split(arguments)
        if keyword == "RUN" and words[:2] == ["uv", "sync"]:
            copies = [shlex.split(a) for k, a in instructions[:index] if k == "COPY"]
            assert copies, "no COPY before the dependency layer"
            command = words[: words.index("&&")] if "&&" in words else words
            return copies[-1][:-1], command
    raise AssertionError("the Dockerfile runs no `uv sync`")


def package_name(requirement: str) -> str:
    """Return the normalized name (PEP 503) of a requirement such as ``dbt-core>=1.10``."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


def uv(
    args: list[str], cwd: Path, offline: bool = True, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run uv outside this test's virtual environment, offline unless told (the lock is all it
    may read; a lock that no longer matches needs the registry's metadata to say so, which a
    fresh machine's cache does not hold)."""
    binary = os.environ.get("UV") or shutil.which("uv")
    if not binary:
        pytest.fail("uv is not on PATH (the image installs its dependencies with uv)")
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_FROZEN", "UV_LOCKED"}
    }
    environment.update(UV_PYTHON_DOWNLOADS="never", UV_PYTHON=sys.executable, **env)
    return subprocess.run(
        [binary, *args, *(["--offline"] if offline else [])], cwd=cwd, env=environment,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_lock_matches_pyproject_so_the_frozen_image_install_is_current(tmp_path):
    # The image installs with `uv sync --frozen`: from uv.lock alone, whatever pyproject says.
    result = uv(["lock", "--check"], REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    # The same check on a pyproject.toml that lost a dependency the lock still has.
    shutil.copy(LOCK_FILE, tmp_path / "uv.lock")
    text = PYPROJECT.read_text()
    dependency = tomllib.loads(text)["project"]["dependencies"][-1]
    (tmp_path / "pyproject.toml").write_text(text.replace(f'"{dependency}",', "", 1))
    stale = uv(["lock", "--check"], tmp_path, offline=False)
    assert stale.returncode != 0 and "needs to be updated" in stale.stderr, stale.stderr


def test_the_dependency_layer_installs_the_locked_runtime_dependencies_only(tmp_path):
    sources, command = dependency_layer()
    assert "--frozen" in command, command
    for source in sources:
        shutil.copy(REPO_ROOT / source, tmp_path / source)

    # The layer's own command, on the files it copies only, planned (--dry-run) not installed.
    result = uv([*command[1:], "--dry-run"], tmp_path, UV_PROJECT_ENVIRONMENT=str(tmp_path / "v"))

    assert result.returncode == 0, result.stdout + result.stderr
    planned = dict(
        re.findall(r"^ \+ ([A-Za-z0-9._-]+)==(\S+)$", result.stdout + result.stderr, re.M)
    )
    assert planned, result.stdout + result.stderr
    lock = tomllib.loads(LOCK_FILE.read_text())["package"]
    # Every planned version is a locked one (a package may be locked at several, by marker).
    locked = {(package["name"], package["version"]) for package in lock}
    assert set(planned.items()) - locked == set()
    project = tomllib.loads(PYPROJECT.read_text())
    runtime = {package_name(r) for r in project["project"]["dependencies"]}
    assert runtime <= set(planned), runtime - set(planned)
    # The development tools that no runtime package needs stay out of the image.
    required = {
        dependency["name"]
        for package in lock
        if package["name"] != package_name(project["project"]["name"])
        for dependency in package.get("dependencies", [])
    }
    dev_only = {package_name(r) for r in project["dependency-groups"]["dev"]} - required
    assert dev_only and not dev_only & set(planned), dev_only & set(planned)


def test_env_example_documents_every_variable():
    documented = set(env_example())
    needed = compose_variables()
    for name, text in instance_files().items():
        references = env_references(yaml.safe_load(text))
        assert references or name != "dagster.yaml" or "{env:" not in text
        needed |= references
    launcher = yaml.safe_load(RUN_LAUNCHER_FILE.read_text())["run_launcher"]
    needed |= set(launcher["config"].get("env_vars", []))
    assert needed - documented == set(), "add these to .env.example"
    assert "DAGSTER_POSTGRES_PASSWORD" in needed


def test_no_secret_is_written_in_the_stack_files():
    for name, value in env_example().items():
        if any(word in name for word in SECRET_WORDS):
            assert value in PLACEHOLDERS, f".env.example: {name} must be a placeholder"
    raw = yaml.safe_load(COMPOSE_FILE.read_text())

    def walk(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                if any(word in str(key).upper() for word in SECRET_WORDS) and isinstance(
                    value, str
                ):
                    # Required (`${X:?why}`) or optional with an empty default (`${X:-}`).
                    assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*|:-)\}", value), (
                        f"{path}/{key}: {value}"
                    )
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for value in node:
                walk(value, path)

    walk(raw)
    for text in instance_files().values():
        assert not re.search(r"password:\s*(?!\{env:)\S", text, re.I)


def test_one_code_server_per_location_as_in_the_workspace(rendered):
    services = rendered["services"]
    workspace = yaml.safe_load(STACK_WORKSPACE.read_text())["load_from"]
    entries = {entry["grpc_server"]["location_name"]: entry["grpc_server"] for entry in workspace}
    assert set(entries) == {location.name for location in LOCATIONS}
    code_services = {name for name in services if name.startswith("code-")}
    assert code_services == {code_server_host(location) for location in LOCATIONS}
    for location in LOCATIONS:
        host = code_server_host(location)
        assert entries[location.name] == {
            "host": host,
            "port": CODE_SERVER_PORT,
            "location_name": location.name,
        }
        command = services[host]["command"]
        assert command[:3] == ["dagster", "code-server", "start"]
        assert command[command.index("-p") + 1] == str(CODE_SERVER_PORT)
        assert command[command.index("-m") + 1] == location.module
        assert command[command.index("--location-name") + 1] == location.name
        assert "healthcheck" in services[host]
        targets = {volume["target"] for volume in services[host]["volumes"]}
        assert {"/data/lake", "/data/warehouse"} <= targets


def test_every_dagster_service_runs_the_one_image_with_the_instance_env(rendered):
    services = rendered["services"]
    dagster = {name: s for name, s in services.items() if name not in {"postgres"}}
    # The dbt docs site runs the one image too, but is no Dagster process: no instance.
    docs = dagster.pop("dbt-docs")
    assert docs["command"][:3] == ["python", "-m", "data_platform.tools.docs_site"]
    assert len({service["image"] for service in [*dagster.values(), docs]}) == 1
    assert [name for name, s in services.items() if "build" in s] == ["code-data-platform"]
    needed = {"ENVIRONMENT"} | env_references(yaml.safe_load(INSTANCE_FILE.read_text()))
    for name, service in dagster.items():
        if name == "stack-profiles":
            continue
        assert needed <= set(service["environment"]), name
        dependencies = service.get("depends_on", {})
        assert dependencies.get("postgres", {}).get("condition") == "service_healthy", name
    assert services["postgres"]["image"] == "postgres:15-bookworm"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_the_instance_is_migrated_once_before_any_code_server_starts(rendered):
    # Code servers started together on an empty database would all create the tables at once.
    services = rendered["services"]
    assert services["dagster-migrate"]["command"] == ["dagster", "instance", "migrate"]
    for location in LOCATIONS:
        depends = services[code_server_host(location)]["depends_on"]
        assert depends["dagster-migrate"]["condition"] == "service_completed_successfully"


def test_one_webserver_and_one_daemon_per_profile(rendered):
    services = rendered["services"]
    by_program: dict[str, list[dict]] = {}
    for service in services.values():
        by_program.setdefault((service.get("command") or [""])[0], []).append(service)
    daemons, webservers = by_program["dagster-daemon"], by_program["dagster-webserver"]
    assert len(daemons) == 1 and len(webservers) == 1
    for service in daemons + webservers:
        assert service["command"][-2:] == ["-w", "deploy/workspace.yaml"]
        assert service["depends_on"]["stack-profiles"]["condition"] == (
            "service_completed_successfully"
        )
    assert webservers[0]["command"][:6] == [
        "dagster-webserver",
        "-h",
        "0.0.0.0",
        "-p",
        "3000",
        "-w",
    ]


def test_both_profiles_at_once_are_refused():
    env = {key: value for key, value in os.environ.items() if not key.startswith("COMPOSE_")}
    env.update({"COMPOSE_PROFILES": ",".join(PROFILES), "DAGSTER_POSTGRES_PASSWORD": "x"})
    result = subprocess.run(
        [compose_binary(), "-f", COMPOSE_FILE, "--env-file", os.devnull, "config"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0 and "container name" in result.stderr


@pytest.mark.parametrize(
    ("profiles", "accepted"),
    [
        ("local-runs", True),
        ("docker-runs", True),
        (" docker-runs ", True),
        ("", False),
        ("local-runs,docker-runs", False),
        ("*", False),
        ("other", False),
    ],
)
def test_profile_guard_accepts_exactly_one_launcher(profiles, accepted):
    script = rendered_compose("local-runs")["services"]["stack-profiles"]["command"][2]
    result = subprocess.run(
        ["sh", "-c", script.replace("$$", "$")],
        capture_output=True, text=True, timeout=30, check=False,
        env={"PATH": os.environ["PATH"], "DAGSTER_STACK_PROFILES": profiles},
    )  # fmt: skip
    assert (result.returncode == 0) is accepted, result.stdout + result.stderr


def test_ports_are_bound_to_the_loopback_by_default(rendered):
    for name, service in rendered["services"].items():
        for port in service.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", name
    webserver = next(s for n, s in rendered["services"].items() if n.startswith("dagster-webs"))
    assert webserver["ports"][0]["published"] == "3000" and webserver["ports"][0]["target"] == 3000
    custom = rendered_compose("local-runs", {"DAGSTER_WEBSERVER_PORT": "3999"})
    assert custom["services"]["dagster-webserver"]["ports"][0]["published"] == "3999"


def test_docker_runs_profile_mounts_the_socket_and_uses_its_instance():
    services = rendered_compose("docker-runs")["services"]
    for name in ("dagster-webserver-docker-runs", "dagster-daemon-docker-runs"):
        service = services[name]
        assert service["environment"]["DAGSTER_HOME"] == "/opt/dagster/docker-runs-home"
        assert any(v["target"] == "/var/run/docker.sock" for v in service["volumes"])
    local = rendered_compose("local-runs")["services"]
    for service in local.values():
        assert all(v.get("target") != "/var/run/docker.sock" for v in service.get("volumes", []))
    context = json.loads(services["code-ags-project"]["environment"]["DAGSTER_CONTAINER_CONTEXT"])
    volumes = context["docker"]["container_kwargs"]["volumes"]
    assert {volume.split(":")[1] for volume in volumes} >= {"/data/lake", "/data/warehouse"}


def test_instance_files_are_valid_and_differ_only_by_the_run_launcher(tmp_path, monkeypatch):
    from dagster._core.instance.config import dagster_instance_config
    from dagster._serdes.config_class import ConfigurableClassData

    for name in env_example():
        monkeypatch.setenv(name, env_example()[name] or "x")
    monkeypatch.setenv("DAGSTER_POSTGRES_PASSWORD", "dummy")
    loaded = {}
    for name, text in instance_files().items():
        home = tmp_path / name.replace(".", "_")
        home.mkdir()
        (home / "dagster.yaml").write_text(text)
        config, _ = dagster_instance_config(str(home))
        loaded[name] = dict(config)
    docker_runs, default = loaded["docker-runs"], loaded["dagster.yaml"]
    assert "run_launcher" not in yaml.safe_load(INSTANCE_FILE.read_text())
    launcher = docker_runs.pop("run_launcher")
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    assert docker_runs == default
    instance = ConfigurableClassData(launcher["module"], launcher["class"], yaml.safe_dump(
        launcher["config"]
    )).rehydrate(as_type=object)  # fmt: skip
    assert type(instance).__name__ == "DockerRunLauncher"


# --- the health checks: Dagster's own commands, run from the venv ---------------------------


def is_dagster_server(service: dict) -> bool:
    """Whether a rendered service runs a Dagster server: webserver, daemon or code server."""
    command = service.get("command") or [""]
    return command[0] in {"dagster-webserver", "dagster-daemon"} or command[:2] == [
        "dagster",
        "code-server",
    ]


def run_health_check(service: str, port: int, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the health check of a service of the rendered stack (profile local-runs) here.

    Args:
        service: the compose service, e.g. ``dagster-webserver``.
        port: the port of the local server standing in for the service's (its ``-p``).
        env: extra environment variables.

    Returns:
        The finished check; it must end within the health check's own timeout (60 s).
    """
    rendered = rendered_compose("local-runs")["services"][service]
    check, served = rendered["healthcheck"]["test"], rendered["command"]
    assert check[0] == "CMD", check
    if "-p" in served:  # the port the service listens on: the local server's instead
        check = [word.replace(served[served.index("-p") + 1], str(port)) for word in check]
    return subprocess.run(
        check[1:], capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env},
    )  # fmt: skip


def test_every_dagster_server_has_a_health_check_of_the_venv_and_the_image_none(rendered):
    servers = {name: s for name, s in rendered["services"].items() if is_dagster_server(s)}
    assert len(servers) == len(LOCATIONS) + 2, servers
    for name, service in servers.items():
        check = service["healthcheck"]
        assert check["test"][0] == "CMD" and (BIN / check["test"][1]).exists(), (name, check)
    # A run worker of the DockerRunLauncher runs the image with no server to check.
    assert "HEALTHCHECK" not in {keyword for keyword, _ in dockerfile_instructions()}


def serve_definitions(
    tmp_path: Path, command: list[str], code: str
) -> tuple[subprocess.Popen, int, Path]:
    """Serve ``code`` (a definitions file) with ``dagster <command>`` on a free port.

    Returns:
        The server process, its port and its log.
    """
    (tmp_path / "definitions.py").write_text(code)
    port, log = free_port(), tmp_path / "server.log"
    server = subprocess.Popen(
        [BIN / "dagster", *command, "-h", "127.0.0.1", "-p", str(port), "-f",
         tmp_path / "definitions.py"],
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)}, stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    return server, port, log


def test_the_code_server_check_passes_while_a_grpc_server_serves(tmp_path):
    server, port, log = serve_definitions(
        tmp_path, ["api", "grpc"], "import dagster as dg\n\ndefs = dg.Definitions()\n"
    )
    try:
        for _ in range(60):  # the server loads its definitions first
            assert server.poll() is None, log.read_text()
            if run_health_check("code-data-platform", port).returncode == 0:
                break
        else:
            pytest.fail(f"the check never passed:\n{log.read_text()}")
    finally:
        stop_process(server)
    assert run_health_check("code-data-platform", port).returncode != 0


def test_the_webserver_check_reads_server_info():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200 if self.path == "/server_info" else 404)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        result = run_health_check("dagster-webserver", port)
        assert result.returncode == 0, result.stderr
        server.shutdown()
        server.server_close()
        assert run_health_check("dagster-webserver", port).returncode != 0
    finally:
        server.shutdown()
        server.server_close()


def test_the_daemon_check_fails_without_a_running_daemon(tmp_path):
    result = run_health_check("dagster-daemon", 0, DAGSTER_HOME=str(tmp_path))
    assert result.returncode != 0 and "not running" in result.stdout, result


def test_the_code_server_check_fails_while_its_definitions_do_not_load(tmp_path):
    # Issue 14: `dagster api grpc-health-check` answers SERVING for a code server whose
    # definitions fail to load; the compose check asks for the definitions and names the error.
    server, port, log = serve_definitions(
        tmp_path, ["code-server", "start"], "raise RuntimeError('the manifest is broken')\n"
    )
    request = health_pb2.HealthCheckRequest(service="DagsterApi")
    try:
        # The gRPC health service, which `dagster api grpc-health-check` asks, says SERVING...
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            for _ in range(120):
                assert server.poll() is None, log.read_text()
                with contextlib.suppress(grpc.RpcError):
                    answer = health_pb2_grpc.HealthStub(channel).Check(request, timeout=5)
                    if answer.status == health_pb2.HealthCheckResponse.SERVING:
                        break
                time.sleep(1)
            else:
                pytest.fail(f"the server never answered:\n{log.read_text()}")
        # ... while the compose check, which asks for the definitions, fails and says why.
        result = run_health_check("code-data-platform", port)
    finally:
        stop_process(server)
    assert result.returncode != 0, result
    assert "the manifest is broken" in result.stderr


def test_a_location_missing_a_variable_of_the_instance_file_names_it(tmp_path, monkeypatch):
    from data_platform.factory import build_location_definitions
    from data_platform.health import MissingVariableError

    shutil.copy(INSTANCE_FILE, tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    needed = env_references(yaml.safe_load(INSTANCE_FILE.read_text()))
    for name in needed:
        monkeypatch.setenv(name, "5432" if name.endswith("PORT") else "x")
    monkeypatch.delenv("DAGSTER_POSTGRES_PASSWORD")
    with pytest.raises(MissingVariableError, match="DAGSTER_POSTGRES_PASSWORD") as error:
        build_location_definitions("ags_project")
    assert "'ags_project'" in str(error.value)
    assert str(tmp_path / "dagster.yaml") in str(error.value)


def test_env_is_ignored_by_git():
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", ".env"], cwd=REPO_ROOT, capture_output=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, "add .env to .gitignore: it holds the stack's secrets"


def test_run_containers_are_removed_after_their_run():
    launcher = yaml.safe_load(docker_runs_instance_text())["run_launcher"]
    assert launcher["class"] == "DockerRunLauncher"
    assert launcher["config"]["container_kwargs"]["auto_remove"] is True
