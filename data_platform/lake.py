"""The lake: a local folder (the default) or a container of Azure Data Lake Storage, via adlfs.

``DATA_PLATFORM_LAKE_ROOT`` picks it, read when a function is called (never at import time):

* an existing absolute folder, or nothing: ``<repo>/.local/lake``, created when first used;
* ``abfs://<container>@<account>.dfs.core.windows.net/<prefix>``,
  ``abfs://<container>@<account>/<prefix>`` or ``abfs://<container>/<prefix>`` (the account then
  comes from ``AZURE_STORAGE_ACCOUNT_NAME`` or the connection string): ADLS Gen2 / Blob Storage,
  through the fsspec filesystem of `adlfs <https://github.com/fsspec/adlfs>`_. ``abfss://`` and
  ``az://`` are accepted as synonyms.

Credentials are adlfs's own environment variables, never a setting of the platform, so they are
never written to a file, a log line or the UI: ``AZURE_STORAGE_CONNECTION_STRING``, or
``AZURE_STORAGE_ACCOUNT_NAME`` with ``AZURE_STORAGE_ACCOUNT_KEY`` (or ``AZURE_STORAGE_SAS_TOKEN``),
or ``AZURE_STORAGE_ACCOUNT_NAME`` alone, which makes adlfs use ``DefaultAzureCredential``
(managed identity, workload identity, ``AZURE_CLIENT_ID``/``AZURE_TENANT_ID``/
``AZURE_CLIENT_SECRET``, Azure CLI login).

The raw assets write ``raw/<dataset>/...`` through the same filesystem; dbt-duckdb reads the
raw files and writes the published marts (``marts/<dbt project>/<model>.parquet``) through it too:
the dbt profiles' target ``adls`` registers adlfs with DuckDB (dbt-duckdb's ``filesystems``),
and :class:`data_platform.settings.PlatformStorage` selects that target (``--target adls``).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from data_platform.environment import LAKE_ROOT

if TYPE_CHECKING:
    import fsspec

LAKE_ROOT_ENV = LAKE_ROOT.name
ACCOUNT_NAME_ENV = "AZURE_STORAGE_ACCOUNT_NAME"
REMOTE_SCHEMES = ("abfs", "abfss", "az")
AZURE_CREDENTIAL_ENVS = (
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
)
"""The credential variables passed to the containers (docker-compose.yml, DockerRunLauncher)."""
DEFAULT_LOCAL_LAKE = Path(__file__).resolve().parent.parent / ".local" / "lake"

# Azure's naming rules: a container is 3-63 lowercase letters, digits and single hyphens; an
# account 3-24 lowercase letters and digits (learn.microsoft.com, "Naming and referencing
# containers, blobs, and metadata" and "Storage account name").
_URL = re.compile(
    r"^(?P<scheme>abfss?|az)://(?P<container>(?=[a-z0-9-]{3,63}(?:[@/]|$))[a-z0-9]+(?:-[a-z0-9]+)*)"
    r"(?:@(?P<host>[a-z0-9]{3,24}(?:\.[a-z0-9-]+)*))?(?P<prefix>/[^@]*)?$"
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# Secrets an Azure error message or a URL could carry: connection-string keys, SAS signatures.
_SECRET = re.compile(r"(?i)(AccountKey=|SharedAccessSignature=|sig=|Authorization:\s*)[^;&\s]+")


class LakeError(RuntimeError):
    """The lake cannot be used: missing container or folder, refused credentials, bad URL.

    The message names the lake path concerned and never contains a credential.
    """


def redact(text: str) -> str:
    """Return ``text`` with account keys, SAS signatures and authorization headers masked.

    Args:
        text: any message (typically an Azure SDK error).

    Returns:
        The same text, each secret value replaced by ``***``.
    """
    return _SECRET.sub(lambda match: f"{match.group(1)}***", text)


@dataclass(frozen=True)
class Lake:
    """Where the lake is: a local folder or an ADLS container (plus an optional prefix).

    Attributes:
        root: the canonical root, without trailing slash: an absolute local path, or
            ``abfs://<container>[/<prefix>]`` (the account is kept apart, in ``account_name``).
        account_name: the storage account named in the URL, if any.
    """

    root: str
    account_name: str | None = None

    @property
    def is_remote(self) -> bool:
        """``True`` when the lake is on Azure (``abfs://``), ``False`` for a local folder."""
        return self.root.startswith("abfs://")

    @property
    def container(self) -> str | None:
        """The ADLS container, or ``None`` for a local lake."""
        return self.root.removeprefix("abfs://").split("/", 1)[0] if self.is_remote else None

    def path(self, *parts: str) -> str:
        """Join lake-relative parts (``"raw"``, ``"ags/file.json"``) onto the root.

        Returns:
            A local path or an ``abfs://`` URL, as a string.
        """
        relative = "/".join(part.strip("/") for part in parts if part)
        return f"{self.root}/{relative}" if relative else self.root

    def account(self) -> str | None:
        """Return the storage account of an Azure lake (``None`` for a local one or unknown).

        Returns:
            The URL's account, else ``AZURE_STORAGE_ACCOUNT_NAME``, else the ``AccountName`` of
            ``AZURE_STORAGE_CONNECTION_STRING``.
        """
        if not self.is_remote:
            return None
        if self.account_name or os.environ.get(ACCOUNT_NAME_ENV):
            return self.account_name or os.environ.get(ACCOUNT_NAME_ENV)
        found = re.search(
            r"AccountName=([^;]+)", os.environ.get("AZURE_STORAGE_CONNECTION_STRING", "")
        )
        return found.group(1) if found else None

    def display(self, *parts: str) -> str:
        """Like :meth:`path`, with the storage account in the URL (for errors and the UI).

        The account is :meth:`account`'s; never a credential.
        """
        path = self.path(*parts)
        account = self.account()
        if not account:
            return path
        container = self.container or ""
        return path.replace(f"abfs://{container}", f"abfs://{container}@{account}", 1)

    @cached_property
    def filesystem(self) -> fsspec.AbstractFileSystem:
        """The fsspec filesystem of the lake: local, or adlfs with credentials from the env.

        Raises:
            LakeError: adlfs finds no account or credentials (no secret in the message).
        """
        import fsspec

        drop_empty_azure_variables()
        if not self.is_remote:
            return fsspec.filesystem("file")
        options = {"account_name": self.account_name} if self.account_name else {}
        try:
            return fsspec.filesystem("abfs", skip_instance_cache=True, **options)
        except ValueError as error:
            raise LakeError(
                f"Lake {self.display()}: cannot connect to Azure storage: {redact(str(error))}."
                " Set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with"
                " AZURE_STORAGE_ACCOUNT_KEY (or alone, for DefaultAzureCredential)."
            ) from None

    def fs_path(self, *parts: str) -> str:
        """Return the path of ``parts`` as the lake's filesystem expects it (no scheme)."""
        return self.path(*parts).removeprefix("abfs://")

    def check(self) -> None:
        """Check that the lake can be used before anything is written to it.

        A local lake must be an existing, writable folder; only the default one
        (``<repo>/.local/lake``) is created here. An Azure lake's container must exist and its
        credentials work.

        Raises:
            LakeError: the folder is missing, not a folder or not writable; the container does
                not exist, or Azure refused the request. The message names the lake path, the
                variable and the cause, without any credential.
        """
        if not self.is_remote:
            root = Path(self.root)
            if root == DEFAULT_LOCAL_LAKE:
                root.mkdir(parents=True, exist_ok=True)
            problem = (
                "does not exist; create it (mkdir -p) or correct"
                if not root.exists()
                else "is not a folder; correct"
                if not root.is_dir()
                else "is not writable by this user; fix its permissions or correct"
                if not os.access(root, os.W_OK | os.X_OK)
                else None
            )
            if problem:
                raise LakeError(f"Lake {root} {problem} {LAKE_ROOT_ENV}. Nothing was written.")
            return
        try:
            self.filesystem.ls(self.container, detail=False)
        except FileNotFoundError:
            raise LakeError(
                f"Lake {self.display()}: the container {self.container!r} does not exist;"
                " create it (az storage container create) or correct DATA_PLATFORM_LAKE_ROOT."
                " Nothing was written."
            ) from None
        except LakeError:
            raise
        except Exception as error:  # azure.core.exceptions.* carry the HTTP status and code
            first_line = redact(str(error)).splitlines()[0] if str(error) else ""
            raise LakeError(
                f"Lake {self.display()}: Azure storage refused access"
                f" ({type(error).__name__}: {first_line}); check the credentials"
                " (AZURE_STORAGE_*). Nothing was written."
            ) from None


def drop_empty_azure_variables() -> list[str]:
    """Remove the Azure credential variables that are set but empty from ``os.environ``.

    Compose passes every variable of :data:`AZURE_CREDENTIAL_ENVS` to the containers, empty when
    ``.env`` leaves it blank; adlfs and azure-identity take an empty value for a given one (a
    connection string ``""``), so an empty variable must mean "not set".

    Returns:
        The names removed.
    """
    empty = [name for name in AZURE_CREDENTIAL_ENVS if os.environ.get(name) == ""]
    for name in empty:
        del os.environ[name]
    return empty


def parse_lake_root(value: str | None) -> Lake:
    """Parse a ``DATA_PLATFORM_LAKE_ROOT`` value.

    Only the form is checked here; :meth:`Lake.check` checks, before the first write, that
    the folder or the container exists.

    Args:
        value: an absolute local path, an ``abfs://`` / ``abfss://`` / ``az://`` URL (container
            and account named by Azure's rules), or empty/``None`` for the default
            ``<repo>/.local/lake``.

    Returns:
        The :class:`Lake`, with a canonical root (absolute path, or ``abfs://container/prefix``).

    Raises:
        LakeError: a relative path, a URL with another scheme (``s3://``...), or a malformed
            Azure URL (``abfs:/typo``, no container, a container name Azure refuses), naming
            the variable and the value.
    """
    if not value:
        return Lake(str(DEFAULT_LOCAL_LAKE))
    usage = "; use an absolute folder or abfs://<container>@<account>.dfs.core.windows.net/<prefix>"
    scheme = _SCHEME.match(value)
    if not scheme:
        if not Path(value).is_absolute():
            raise LakeError(f"{LAKE_ROOT_ENV}={value!r}: a relative path{usage}")
        return Lake(str(Path(value).resolve()))
    match = _URL.match(value.rstrip("/"))
    if not match:
        name = scheme.group(0).rstrip(":")
        raise LakeError(
            f"{LAKE_ROOT_ENV}={value!r}: "
            + (
                "malformed lake URL"
                if name in REMOTE_SCHEMES
                else f"unsupported lake URL (scheme {name!r})"
            )
            + usage
        )
    host = match.group("host")
    account = host.split(".", 1)[0] if host else None
    prefix = (match.group("prefix") or "").strip("/")
    root = f"abfs://{match.group('container')}" + (f"/{prefix}" if prefix else "")
    return Lake(root, account)


PUBLISHED_MARTS = "marts"
"""Lake folder of the published marts, ``marts/<dbt project>/<model>.parquet``: what every
location reads."""

STAGED_MARTS = "staging/marts"
"""Lake folder where dbt writes the marts of a run, ``staging/marts/<dbt project>/``: a mart is
copied from there to :data:`PUBLISHED_MARTS` only once its error-severity tests passed
(write, audit, publish: :mod:`data_platform.publish`)."""


def mart_parts(folder: str, dbt_project_name: str, model: str) -> tuple[str, str, str]:
    """Return the parts of a mart's Parquet file below the lake root.

    The one naming rule of the marts' files, e.g. ``("marts", "ags", "fct_walks.parquet")``.

    Args:
        folder: :data:`PUBLISHED_MARTS` or :data:`STAGED_MARTS`.
        dbt_project_name: the dbt project, e.g. ``ags``.
        model: the mart model's name (dbt-duckdb names the file after it).
    """
    return (folder, dbt_project_name, f"{model}.parquet")


def mart_file(lake: Lake, folder: str, dbt_project_name: str, model: str) -> str:
    """Return the lake path of a mart's Parquet file in ``folder``.

    Args:
        lake: the lake.
        folder: :data:`PUBLISHED_MARTS` or :data:`STAGED_MARTS`.
        dbt_project_name: the dbt project, e.g. ``ags``.
        model: the mart model's name (dbt-duckdb names the file after it).

    Returns:
        A local path or an ``abfs://`` URL.
    """
    return lake.path(*mart_parts(folder, dbt_project_name, model))


def publish_file(lake: Lake, source: str, destination: str) -> None:
    """Copy the lake file ``source`` over ``destination`` (both from :meth:`Lake.path`).

    Locally the copy is written beside the destination, then renamed onto it (atomic: a reader
    sees the previous file or the new one); on Azure, a blob upload replaces it whole.

    Raises:
        OSError, LakeError: the copy failed; the destination is then unchanged.
    """
    if not lake.is_remote:
        partial = Path(f"{destination}.publishing")
        shutil.copyfile(source, partial)
        os.replace(partial, destination)
        return
    lake.filesystem.copy(source.removeprefix("abfs://"), destination.removeprefix("abfs://"))


def prepare_lake(lake: Lake, dbt_project_name: str) -> None:
    """Make the lake ready for a dbt run of ``dbt_project_name``.

    The lake is checked (:meth:`Lake.check`: folder, or container and credentials) before dbt
    starts, so that a run on an unusable lake stops with a clear message instead of a DuckDB
    error. A local lake then gets the folders of the project's staged and published marts
    (dbt-duckdb does not create them). An Azure lake's empty credential variables are dropped
    first (see :func:`drop_empty_azure_variables`, the one setting still written to the
    environment: adlfs reads its credentials nowhere else).

    Args:
        lake: the lake the run writes to.
        dbt_project_name: the dbt project (``name:`` in ``dbt_project.yml``), e.g. ``ags``.

    Raises:
        LakeError: the lake cannot be used (see :meth:`Lake.check`).
    """
    if lake.is_remote:
        drop_empty_azure_variables()  # the dbt process's adlfs reads them from its environment
    lake.check()
    if not lake.is_remote:
        for folder in (PUBLISHED_MARTS, STAGED_MARTS):
            Path(lake.path(folder, dbt_project_name)).mkdir(parents=True, exist_ok=True)
