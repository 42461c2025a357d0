"""The instance's PostgreSQL storages, riding out a restart of the database.

dagster-postgres opens a connection for every read and write (its engines have no pool) and retries
a refused one 5 times with exponential backoff (``(2**n - 1) * 0.2`` s), about 11 s in all
(``dagster_postgres.utils.retry_pg_connection_fn``; neither figure is configurable). A database
restarted or failed over for longer, say 30 s, then fails every run in progress with ``too many
retries for DB connection``, although nothing was wrong with its data. These storages, named by
``dagster.yaml``, are dagster-postgres's own with one change: a connection is retried
:data:`CONNECTION_RETRIES` times by the same function, so that a run waits for the database for
about 50 s before it fails. Hand-written because dagster-postgres offers no setting for it.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self

import sqlalchemy
from dagster._serdes import ConfigurableClassData
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage
from dagster_postgres.utils import (
    get_token_provider_from_config,
    pg_url_from_config,
    retry_pg_connection_fn,
)

CONNECTION_RETRIES = 7
"""Retries of a refused connection: ``(2**n - 1) * 0.2`` s before the n-th, about 50 s in all."""


@contextmanager
def patient_connection(engine: sqlalchemy.engine.Engine) -> Iterator[sqlalchemy.Connection]:
    """Open a connection of ``engine``, retried :data:`CONNECTION_RETRIES` times; close it after.

    Raises:
        dagster_postgres.utils.DagsterPostgresException: the database still refuses after them.
    """
    connection = retry_pg_connection_fn(engine.connect, retry_limit=CONNECTION_RETRIES)
    try:
        yield connection
    finally:
        connection.close()


def storage_arguments(
    inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the constructor arguments of a storage, as dagster-postgres's from its config."""
    return {
        "inst_data": inst_data,
        "postgres_url": pg_url_from_config(config_value),
        "should_autocreate_tables": config_value.get("should_autocreate_tables", True),
        "token_provider": get_token_provider_from_config(config_value),
    }


class PatientConnections:
    """What the three storages change in dagster-postgres's: how they are built and connect."""

    # Dagster calls optimize_for_webserver in the webserver only; the daemon and run workers
    # open a connection per query (no pool), which patient_connection retries.

    _engine: sqlalchemy.engine.Engine

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> Self:
        """Build the storage from its ``dagster.yaml`` config (``postgres_db``...), as its base."""
        return cls(**storage_arguments(inst_data, config_value))

    def connect(self, run_id: str | None = None) -> Any:
        """Open a connection, waiting for the database (:func:`patient_connection`)."""
        return patient_connection(self._engine)

    def _connect(self) -> Any:  # the event log storage's name for it
        return patient_connection(self._engine)

    def optimize_for_webserver(
        self, statement_timeout: int, pool_recycle: int, max_overflow: int
    ) -> None:
        """Keep dagster-postgres's pooled connection of the webserver, checked before each use.

        The webserver holds one open connection (dagster-postgres's choice); after a database
        restart it is dead, and the first query on it would fail. SQLAlchemy's pre-ping (what
        ``create_engine(pool_pre_ping=True)`` sets) replaces a dead connection before use.
        """
        super().optimize_for_webserver(  # type: ignore[misc]
            statement_timeout, pool_recycle, max_overflow
        )
        self._engine.pool._pre_ping = True


class PatientPostgresRunStorage(PatientConnections, PostgresRunStorage):
    """dagster-postgres's run storage whose connections wait for the database (module doc)."""


class PatientPostgresEventLogStorage(PatientConnections, PostgresEventLogStorage):
    """dagster-postgres's event log storage whose connections wait for the database."""


class PatientPostgresScheduleStorage(PatientConnections, PostgresScheduleStorage):
    """dagster-postgres's schedule storage whose connections wait for the database."""
