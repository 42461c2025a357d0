"""Truthful health of a code location: its definitions load, and its runs could start.

* ``python -m data_platform.health -p 4000``: the container health check of a code server
  (docker-compose.yml). Dagster's ``dagster api grpc-health-check`` asks the gRPC health service,
  which ``dagster code-server start`` answers ``SERVING`` even while the location's definitions
  fail to load (the server stays up to report the error to the UI) or its gRPC child is dead.
  This check asks the server for its repositories, as the webserver does, and fails with the
  load error, so a broken location's container is unhealthy.
* :func:`check_instance_environment`: a location loads only if every variable the instance file
  (``$DAGSTER_HOME/dagster.yaml``) reads is set; without it, the location would load and each of
  its runs fail at dequeue (``DAGSTER_POSTGRES_PASSWORD`` missing), with nobody told.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

INSTANCE_FILE = "dagster.yaml"


class MissingVariableError(RuntimeError):
    """A variable the Dagster instance file reads is not set."""


def instance_variables(node: Any) -> set[str]:
    """Return the variables of every ``{env: NAME}`` in a parsed instance file.

    Args:
        node: the parsed YAML (mappings, lists, scalars).

    Returns:
        The variables' names (Dagster's ``StringSource``/``IntSource`` notation).
    """
    if isinstance(node, dict):
        if set(node) == {"env"} and isinstance(node["env"], str):
            return {node["env"]}
        return set().union(*(instance_variables(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(instance_variables(value) for value in node))
    return set()


def check_instance_environment(location_name: str) -> None:
    """Fail, naming them, when variables read by ``$DAGSTER_HOME/dagster.yaml`` are unset.

    A no-op without ``DAGSTER_HOME`` or without an instance file there (``make dev``, tests:
    Dagster then uses its defaults).

    Args:
        location_name: the code location, named in the error.

    Raises:
        MissingVariableError: the names of the unset variables and the file that reads them.
    """
    home = os.environ.get("DAGSTER_HOME")
    path = Path(home) / INSTANCE_FILE if home else None
    if path is None or not path.is_file():
        return
    needed = instance_variables(yaml.safe_load(path.read_text(encoding="utf-8")))
    missing = sorted(name for name in needed if not os.environ.get(name))
    if missing:
        raise MissingVariableError(
            f"Code location {location_name!r}: {', '.join(missing)} not set, but {path} reads"
            " them: every run of this location would fail at start. Set them in the code"
            " server's environment (.env, see .env.example)."
        )


def code_server_problem(host: str, port: int) -> str | None:
    """Ask a code server for its definitions, as the webserver does.

    Args:
        host: the server's host.
        port: its gRPC port.

    Returns:
        ``None`` when it serves loaded definitions, else why not (unreachable, or the load
        error of the location, with its causes).
    """
    from dagster._core.errors import DagsterUserCodeUnreachableError
    from dagster._grpc.client import DagsterGrpcClient
    from dagster._grpc.types import ListRepositoriesResponse
    from dagster._serdes import deserialize_value
    from dagster_shared.error import SerializableErrorInfo

    try:
        answer = DagsterGrpcClient(host=host, port=port).list_repositories()
    except DagsterUserCodeUnreachableError as error:
        return f"code server {host}:{port} does not answer: {error}"
    loaded = deserialize_value(answer, (ListRepositoriesResponse, SerializableErrorInfo))
    if isinstance(loaded, SerializableErrorInfo):
        return f"code server {host}:{port} failed to load its definitions:\n{loaded.to_string()}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the code server health check: exit 0 when it serves its definitions, else 1."""
    parser = argparse.ArgumentParser(prog="python -m data_platform.health", add_help=False)
    parser.add_argument("-h", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    arguments = parser.parse_args(argv)
    problem = code_server_problem(arguments.host, arguments.port)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
