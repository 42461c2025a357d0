"""The platform's own environment variables, declared once: name, meaning, default, secrecy.

Every module reads a variable through the name declared here; ``.env.example``, the compose
file and the README's configuration table are checked against :data:`VARIABLES`
(``tests/test_settings.py``), and the table is rendered from it (:func:`markdown_table`). The
Azure credentials are adlfs's own variables, not the platform's: :mod:`data_platform.lake` lists
them. The environment is read only when a method of :class:`Variable` is called, never at import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

ADMIN = "<ADMIN>"
"""Placeholder, in a variable's name, for an administration's ``env_prefix`` (``AGS``)."""


TRUE_VALUES = frozenset({"true", "1", "on", "yes"})
FALSE_VALUES = frozenset({"false", "0", "off", "no"})
"""The spellings of a boolean variable (:meth:`Variable.flag`)."""


@dataclass(frozen=True)
class Variable:
    """One environment variable of the platform.

    Attributes:
        name: the variable, e.g. ``DATA_PLATFORM_LAKE_ROOT``; ``<ADMIN>`` in a name stands for
            each administration's :attr:`~data_platform.locations.CodeLocation.env_prefix`.
        meaning: what it sets, one line of Markdown (the README's table).
        default: the value used when it is unset, as shown to users (Markdown); ``""``: none.
        secret: it holds a credential: read as :class:`dagster.EnvVar`, never shown or logged.
    """

    name: str
    meaning: str
    default: str = ""
    secret: bool = False

    def for_admin(self, env_prefix: str) -> str:
        """Return the name for one administration, e.g. ``DATA_PLATFORM_NOTIFY_AGS_NTFY_URL``."""
        return self.name.replace(ADMIN, env_prefix)

    @property
    def default_value(self) -> str:
        """The default as a value: :attr:`default` without its Markdown backticks."""
        return self.default.strip("`")

    def value(self, env_prefix: str = "") -> str:
        """Return the variable's value now: set and non-empty, else its literal default.

        Args:
            env_prefix: the administration's prefix, for a name holding ``<ADMIN>``.

        Returns:
            The value, or :attr:`default_value` (``""``: none).
        """
        return os.environ.get(self.for_admin(env_prefix)) or self.default_value

    def flag(self, env_prefix: str = "") -> bool:
        """Return the variable's value now as a boolean (:meth:`value`, so its default if unset).

        Returns:
            ``True`` for ``true``/``on``/``1``/``yes``, ``False`` for ``false``/``off``/``0``/``no``
            (any case, surrounding spaces ignored).

        Raises:
            ValueError: any other value, naming the variable and the accepted values.
        """
        value = self.value(env_prefix).strip().lower()
        if value in TRUE_VALUES | FALSE_VALUES:
            return value in TRUE_VALUES
        accepted = ", ".join(sorted(TRUE_VALUES | FALSE_VALUES))
        raise ValueError(
            f"{self.for_admin(env_prefix)}={value!r}: expected true or false ({accepted})"
        )

    def setting(self, env_prefix: str = "") -> dg.EnvVar | None:
        """Return the variable as a resource setting when it is set and non-empty, else None.

        Bound as :class:`dagster.EnvVar`, the value is read where the run runs and the UI shows
        the variable's name, never a secret's value; an unset one is left out (``None``) because
        Dagster refuses an unset ``EnvVar`` when a resource is built, so the field's default holds.
        """
        import dagster as dg  # here, not at import: light tools read this module (prepare)

        name = self.for_admin(env_prefix)
        return dg.EnvVar(name) if os.environ.get(name) else None


LAKE_ROOT = Variable(
    "DATA_PLATFORM_LAKE_ROOT",
    "lake root: `raw/` landed files, `marts/` published Parquet; an existing absolute folder or"
    " `abfs://<container>@<account>.dfs.core.windows.net/<prefix>`"
    " ([ADLS](#the-lake-on-azure-data-lake-storage))",
    "`.local/lake`",
)
WAREHOUSE_DIR = Variable(
    "DATA_PLATFORM_WAREHOUSE_DIR",
    "folder of the DuckDB files (`<project>.duckdb`)",
    "`.local/warehouse`",
)
DBT_DOCS_URL = Variable(
    "DATA_PLATFORM_DBT_DOCS_URL",
    "URL under which browsers reach the dbt docs site (links on dbt assets)",
    "`http://127.0.0.1:3001`",
)
UI_URL = Variable(
    "DATA_PLATFORM_UI_URL",
    "URL of the Dagster UI, for the links in failure notifications",
    "`http://127.0.0.1:3000`",
)
LOG_FORMAT = Variable(
    "DATA_PLATFORM_LOG_FORMAT",
    "`colored` or `json` (one JSON object per line), for run and process logs",
    "`colored`",
)
AUTOMATION = Variable(
    "DATA_PLATFORM_AUTOMATION",
    "`true`: each location's automation sensor, raw-file sensor and daily schedule run by default"
    " ([How data stays fresh](#how-data-stays-fresh)); `false`: declared, stopped until started"
    " in the UI",
    "`false`",
)
AUTOMATION_INTERVAL = Variable(
    "DATA_PLATFORM_AUTOMATION_INTERVAL",
    "seconds between two evaluations of a location's automation and raw-file sensors",
    "`30`",
)
NOTIFY_TEAMS_WEBHOOK_URL = Variable(
    f"DATA_PLATFORM_NOTIFY_{ADMIN}_TEAMS_WEBHOOK_URL",
    "an administration's MS Teams incoming webhook (Workflows) URL",
    secret=True,
)
NOTIFY_NTFY_URL = Variable(
    f"DATA_PLATFORM_NOTIFY_{ADMIN}_NTFY_URL",
    "an administration's ntfy topic URL, e.g. `https://ntfy.sh/fwb-ags`",
    secret=True,
)
NOTIFY_NTFY_TOKEN = Variable(
    f"DATA_PLATFORM_NOTIFY_{ADMIN}_NTFY_TOKEN",
    "access token of that ntfy topic (`Authorization: Bearer`)",
    secret=True,
)
NOTIFY_EMAIL_TO = Variable(
    f"DATA_PLATFORM_NOTIFY_{ADMIN}_EMAIL_TO",
    "an administration's e-mail recipients, comma-separated",
)
SMTP_HOST = Variable("DATA_PLATFORM_SMTP_HOST", "SMTP server of the e-mail notifications")
SMTP_PORT = Variable("DATA_PLATFORM_SMTP_PORT", "its port", "`25`")
SMTP_USER = Variable("DATA_PLATFORM_SMTP_USER", "its user, if it needs a login")
SMTP_PASSWORD = Variable("DATA_PLATFORM_SMTP_PASSWORD", "that user's password", secret=True)
SMTP_FROM = Variable("DATA_PLATFORM_SMTP_FROM", "sender of the e-mails", "`dagster@<host>`")
SMTP_STARTTLS = Variable("DATA_PLATFORM_SMTP_STARTTLS", "`true` to use STARTTLS", "`false`")

VARIABLES: tuple[Variable, ...] = (
    LAKE_ROOT,
    WAREHOUSE_DIR,
    DBT_DOCS_URL,
    UI_URL,
    LOG_FORMAT,
    AUTOMATION,
    AUTOMATION_INTERVAL,
    NOTIFY_TEAMS_WEBHOOK_URL,
    NOTIFY_NTFY_URL,
    NOTIFY_NTFY_TOKEN,
    NOTIFY_EMAIL_TO,
    SMTP_HOST,
    SMTP_PORT,
    SMTP_USER,
    SMTP_PASSWORD,
    SMTP_FROM,
    SMTP_STARTTLS,
)
"""Every variable of the platform, in the order of the README's table."""


def markdown_table(variables: tuple[Variable, ...] = VARIABLES) -> str:
    """Return the README's configuration table of ``variables``.

    Returns:
        A Markdown table (header, separator, one row per variable), ending with a newline.
    """
    rows = ["| Variable | Meaning | Default |", "|---|---|---|"]
    for variable in variables:
        meaning = variable.meaning + (" (secret)" if variable.secret else "")
        rows.append(f"| `{variable.name}` | {meaning} | {variable.default or 'none'} |")
    return "\n".join(rows) + "\n"
