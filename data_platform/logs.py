"""One switch for the format of every log: ``DATA_PLATFORM_LOG_FORMAT`` (``colored`` or ``json``).

* Run logs: ``dagster.yaml`` (``python_logs.dagster_handler_config``) gives every run the
  handler :func:`run_log_handler`, which with ``json`` writes each event as one JSON object per
  line on stderr (time, level, message, run id, job, step, event type), for Kibana or Dozzle.
  The variable is read when a run starts, never at import time. (Dagster applies a job's own
  ``loggers`` only when the run config names them, which the UI's *Materialize* never does:
  hence an instance handler.) Dagster's colored line of each event is still printed beside.
* Processes: ``docker-compose.yml`` passes the same variable to the ``--log-format`` option of
  ``dagster-webserver``, ``dagster-daemon`` and ``dagster code-server start``.
"""

from __future__ import annotations

import json
import logging
import os
import sys

from data_platform.environment import LOG_FORMAT

LOG_FORMAT_ENV = LOG_FORMAT.name
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


class JsonRunLogFormatter(logging.Formatter):
    """Format a Dagster run log record as one JSON object: time, level, message, run, step."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON (the run's metadata from ``dagster_meta``)."""
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        document = {
            "timestamp": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": meta.get("orig_message") or record.getMessage(),
            "run_id": meta.get("run_id"),
            "job_name": meta.get("job_name"),
            "step_key": meta.get("step_key"),
            "event_type": getattr(event, "event_type_value", None),
        }
        return json.dumps({key: value for key, value in document.items() if value is not None})


def run_log_handler() -> logging.Handler:
    """Return the handler of the instance's run logs: JSON on stderr, or nothing.

    ``dagster.yaml`` (``python_logs.dagster_handler_config``) names this factory, so the choice
    is made by ``DATA_PLATFORM_LOG_FORMAT`` when a run starts, in the run's process.

    Returns:
        A stderr handler with :class:`JsonRunLogFormatter` when the format is ``json``; else a
        :class:`logging.NullHandler` (Dagster's colored console logger already prints the run).
    """
    if log_format() != "json":
        return logging.NullHandler()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonRunLogFormatter())
    return handler
