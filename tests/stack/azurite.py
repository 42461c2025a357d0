"""Azurite, Microsoft's Azure Storage emulator (npm package ``azurite``), for the lake tests.

Only its blob service is started, on 127.0.0.1 and a free port, with its data in a temporary
folder. adlfs talks to it with a connection string, exactly as it talks to a storage account.
Azurite is installed with npm into ``.local/azurite`` (git-ignored) on first use.
"""

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from azure.storage.blob import BlobServiceClient

from data_platform.settings import REPO_ROOT
from tests.stack.processes import (
    NodeToolUnavailable,
    free_port,
    npm_executable,
    stop_process,
    wait_for_http,
)

AZURITE_VERSION = "3.35.0"
AZURITE_PREFIX = REPO_ROOT / ".local" / "azurite"
ACCOUNT = "devstoreaccount1"
# Azurite's documented, well-known development key (not a secret).
ACCOUNT_KEY = (
    # pragma: allowlist nextline secret
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@dataclass(frozen=True)
class AzuriteServer:
    """A running Azurite blob service."""

    port: int

    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def connection_string(self, key: str = ACCOUNT_KEY) -> str:
        """Return the connection string of the emulator's account (``key`` to plant a bad one)."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def env(self) -> dict[str, str]:
        """Return the variables that make adlfs use this emulator."""
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string()}

    def blob_service(self) -> BlobServiceClient:
        """Return a blob service client of the emulator's account, for direct checks."""
        return BlobServiceClient.from_connection_string(self.connection_string())

    def create_container(self, name: str) -> None:
        """Create the container ``name`` (it must not exist)."""
        self.blob_service().create_container(name)


@contextmanager
def running_azurite() -> Iterator[AzuriteServer]:
    """Start Azurite's blob service in a temporary folder and yield its :class:`AzuriteServer`.

    Raises:
        NodeToolUnavailable: it cannot be installed, or does not answer within 60 s.
    """
    executable = npm_executable(AZURITE_PREFIX, "azurite", AZURITE_VERSION, "azurite-blob")
    server, data = AzuriteServer(free_port()), Path(tempfile.mkdtemp(prefix="azurite-"))
    log = data / "azurite.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(executable), "--blobHost", "127.0.0.1", "--blobPort", str(server.port),
             "--location", str(data / "blobs"), "--skipApiVersionCheck", "--loose"],
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        # It is up when it answers, 403 for a request without a signature.
        url = f"{server.blob_endpoint}?comp=list"
        try:
            wait_for_http(url, process, log, timeout=60, statuses=(200, 403))
        except (RuntimeError, TimeoutError) as error:
            raise NodeToolUnavailable(f"Azurite: {error}") from error
        yield server
    finally:
        stop_process(process, timeout=20)
        shutil.rmtree(data, ignore_errors=True)
