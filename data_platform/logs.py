"""One switch for the format of every log: ``DATA_PLATFORM_LOG_FORMAT`` (``colored`` or ``json``).

* Run logs: with ``json``, every job of a location logs through Dagster's
  :data:`dagster.json_console_logger` (one JSON object per line on stderr, with the run id), for
  Kibana or Dozzle. The variable is read when the location's definitions are built, never at
  import time.
* Processes: ``docker-compose.yml`` passes the same variable to the ``--log-format`` option of
  ``dagster-webserver``, ``dagster-daemon`` and ``dagster code-server start``.
"""

from __future__ import annotations

import os

import dagster as dg

LOG_FORMAT_ENV = "DATA_PLATFORM_LOG_FORMAT"
FORMATS = ("colored", "json", "rich")
"""The values Dagster's ``--log-format`` accepts; ``colored`` is the default."""


def log_format() -> str:
    """Return the log format from ``$DATA_PLATFORM_LOG_FORMAT`` (default ``colored``).

    Raises:
        ValueError: the variable holds something else than ``colored``, ``json`` or ``rich``.
    """
    value = (os.environ.get(LOG_FORMAT_ENV) or "colored").strip().lower()
    if value not in FORMATS:
        raise ValueError(f"{LOG_FORMAT_ENV}={value!r}: expected one of {', '.join(FORMATS)}")
    return value


def run_loggers() -> dict[str, dg.LoggerDefinition]:
    """Return the loggers of every job of a location: JSON console logger when asked, else none.

    Returns:
        ``{"console": dagster.json_console_logger}`` when the format is ``json``; ``{}`` (Dagster's
        default colored console logger) otherwise.
    """
    return {"console": dg.json_console_logger} if log_format() == "json" else {}
