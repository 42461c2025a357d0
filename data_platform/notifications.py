"""Failure notifications to the channels of the administration that owns a code location.

A failed run, and a failed asset check of severity ERROR (a dbt test of severity ``error``),
send one message to every channel the owning administration configured: an MS Teams incoming
webhook (posted with dagster-msteams' :class:`~dagster_msteams.TeamsClient`), an ntfy topic
(HTTP POST) and e-mail (SMTP). The message names the location, the run, the failed steps,
assets and checks, and links to the run in the Dagster UI.

Channels are read from environment variables **when a message is sent**, never at import time
(``<ADMIN>`` is the location's dbt project upper-cased: ``DATA_PLATFORM``, ``AGS``, ``AGAJ``):

* ``DATA_PLATFORM_NOTIFY_<ADMIN>_TEAMS_WEBHOOK_URL``: Teams incoming webhook (Workflows) URL;
* ``DATA_PLATFORM_NOTIFY_<ADMIN>_NTFY_URL``: full ntfy topic URL, e.g. ``https://ntfy.sh/fwb-ags``;
  ``DATA_PLATFORM_NOTIFY_<ADMIN>_NTFY_TOKEN``: optional access token (``Authorization: Bearer``);
* ``DATA_PLATFORM_NOTIFY_<ADMIN>_EMAIL_TO``: comma-separated recipients, sent through the shared
  SMTP server ``DATA_PLATFORM_SMTP_HOST``, ``_PORT`` (25), ``_USER``, ``_PASSWORD``, ``_FROM``
  (``dagster@<host>``), ``_STARTTLS`` (``true``/``false``, default ``false``);
* ``DATA_PLATFORM_UI_URL``: base URL of the Dagster UI for the links (``http://127.0.0.1:3000``).

A receiver that is down never fails the sensor, nor the run: each channel's error is logged and
the next channel is tried (:func:`send_to_channels`).
"""

from __future__ import annotations

import base64
import logging
import os
import smtplib
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage

from dagster_msteams.adaptive_card import AdaptiveCard
from dagster_msteams.client import TeamsClient

from data_platform.locations import CodeLocation

LOGGER = logging.getLogger(__name__)

UI_URL_ENV = "DATA_PLATFORM_UI_URL"
DEFAULT_UI_URL = "http://127.0.0.1:3000"
TIMEOUT_SECONDS = 10.0
"""Timeout of one delivery: a slow receiver delays the sensor tick by at most this much."""


@dataclass(frozen=True)
class Notification:
    """One message, rendered by every channel.

    Attributes:
        title: one line, e.g. ``[ags_project] run 1a2b3c4d failed``.
        text: the body, plain text, one fact per line.
        url: the link to the run in the Dagster UI.
    """

    title: str
    text: str
    url: str


@dataclass(frozen=True)
class ChannelOutcome:
    """What became of one channel's delivery.

    Attributes:
        channel: ``teams``, ``ntfy`` or ``email``.
        delivered: whether the receiver accepted the message.
        detail: the receiver or the error, for the log.
    """

    channel: str
    delivered: bool
    detail: str


@dataclass(frozen=True)
class Channels:
    """The channels an administration configured (``None``: not configured)."""

    teams_webhook_url: str | None = None
    ntfy_url: str | None = None
    ntfy_token: str | None = None
    email_to: tuple[str, ...] = ()
    smtp: Mapping[str, str] = field(default_factory=dict)

    @property
    def configured(self) -> list[str]:
        """Names of the configured channels, in the order they are tried."""
        names = []
        if self.teams_webhook_url:
            names.append("teams")
        if self.ntfy_url:
            names.append("ntfy")
        if self.email_to:
            names.append("email")
        return names


def env_prefix(location: CodeLocation) -> str:
    """Return ``DATA_PLATFORM_NOTIFY_<ADMIN>_``, ``<ADMIN>`` the upper-cased dbt project."""
    return f"DATA_PLATFORM_NOTIFY_{location.env_prefix}_"


def ui_url() -> str:
    """Return the Dagster UI's base URL (``$DATA_PLATFORM_UI_URL``), without a trailing slash."""
    return (os.environ.get(UI_URL_ENV) or DEFAULT_UI_URL).rstrip("/")


def run_url(run_id: str) -> str:
    """Return the link to a run in the Dagster UI: ``<UI>/runs/<run_id>``."""
    return f"{ui_url()}/runs/{run_id}"


def read_channels(location: CodeLocation, environ: Mapping[str, str] | None = None) -> Channels:
    """Read the channels of a location's administration from the environment, now.

    Args:
        location: the code location (its dbt project names the administration).
        environ: the variables to read; ``os.environ`` by default.

    Returns:
        The configured channels (empty values count as not configured).
    """
    env = os.environ if environ is None else environ
    prefix = env_prefix(location)
    recipients = tuple(
        address.strip()
        for address in (env.get(f"{prefix}EMAIL_TO") or "").split(",")
        if address.strip()
    )
    smtp = {
        name: env[f"DATA_PLATFORM_SMTP_{name}"]
        for name in ("HOST", "PORT", "USER", "PASSWORD", "FROM", "STARTTLS")
        if env.get(f"DATA_PLATFORM_SMTP_{name}")
    }
    return Channels(
        teams_webhook_url=env.get(f"{prefix}TEAMS_WEBHOOK_URL") or None,
        ntfy_url=env.get(f"{prefix}NTFY_URL") or None,
        ntfy_token=env.get(f"{prefix}NTFY_TOKEN") or None,
        email_to=recipients,
        smtp=smtp,
    )


def send_teams(channels: Channels, message: Notification) -> str:
    """Post the message as an adaptive card to the Teams webhook (dagster-msteams' client).

    Returns:
        The receiver, for the log.

    Raises:
        requests.RequestException: the webhook cannot be reached or refused the card.
    """
    card = AdaptiveCard()
    card.add_attachment(f"**{message.title}**")
    for line in message.text.splitlines():
        card.add_attachment(line)
    card.add_attachment(f"[Open the run in Dagster]({message.url})")
    url = str(channels.teams_webhook_url)
    TeamsClient(hook_url=url, timeout=TIMEOUT_SECONDS).post_message(card.payload)
    return url


def header_value(text: str) -> str:
    """Return ``text`` usable as an HTTP header: as is if Latin-1, else RFC 2047 (ntfy reads it).

    Source: https://docs.ntfy.sh/publish/ (non-ASCII titles are RFC 2047 encoded).
    """
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return f"=?UTF-8?B?{base64.b64encode(text.encode()).decode()}?="
    return text


def send_ntfy(channels: Channels, message: Notification) -> str:
    """POST the message to the ntfy topic: body, ``Title``, ``Priority``, ``Tags``, ``Click``.

    Source of the headers: https://docs.ntfy.sh/publish/.

    Returns:
        The topic URL, for the log.

    Raises:
        urllib.error.URLError: the server cannot be reached or answered an HTTP error.
    """
    headers = {
        "Title": header_value(message.title),
        "Priority": "high",
        "Tags": "rotating_light",
        "Click": message.url,
        "Content-Type": "text/plain; charset=utf-8",
    }
    if channels.ntfy_token:
        headers["Authorization"] = f"Bearer {channels.ntfy_token}"
    url = str(channels.ntfy_url)
    request = urllib.request.Request(
        url, data=f"{message.text}\n{message.url}".encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS):
        pass
    return url


def send_email(channels: Channels, message: Notification) -> str:
    """Send the message by e-mail through the shared SMTP server.

    Returns:
        The recipients, for the log.

    Raises:
        ValueError: ``DATA_PLATFORM_SMTP_HOST`` is not set.
        OSError: the server cannot be reached (``smtplib.SMTPException`` included).
    """
    smtp = channels.smtp
    host = smtp.get("HOST")
    if not host:
        raise ValueError("DATA_PLATFORM_SMTP_HOST is not set: no server to send the e-mail")
    email = EmailMessage()
    email["Subject"] = message.title
    email["From"] = smtp.get("FROM") or f"dagster@{host}"
    email["To"] = ", ".join(channels.email_to)
    email.set_content(f"{message.text}\n\nRun: {message.url}\n")
    with smtplib.SMTP(host, int(smtp.get("PORT") or 25), timeout=TIMEOUT_SECONDS) as server:
        if (smtp.get("STARTTLS") or "").lower() in {"1", "true", "yes"}:
            server.starttls()
        if smtp.get("USER"):
            server.login(smtp["USER"], smtp.get("PASSWORD", ""))
        server.send_message(email)
    return ", ".join(channels.email_to)


SENDERS: dict[str, Callable[[Channels, Notification], str]] = {
    "teams": send_teams,
    "ntfy": send_ntfy,
    "email": send_email,
}


def send_to_channels(
    location: CodeLocation,
    message: Notification,
    log: logging.Logger | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[ChannelOutcome]:
    """Send a message to every channel of the location's administration.

    Every configured channel is tried; a channel that fails (receiver down, refused, misconfigured)
    is logged as a warning naming the channel and does not stop the others. Nothing is raised.

    Args:
        location: the code location whose administration is notified.
        message: the message.
        log: where to log (a sensor's ``context.log``); this module's logger by default.
        environ: the variables to read the channels from; ``os.environ`` by default.

    Returns:
        One outcome per configured channel (empty when the administration configured none).
    """
    log = log or LOGGER
    channels = read_channels(location, environ)
    if not channels.configured:
        log.info(
            f"No notification channel configured for {location.name}"
            f" (set {env_prefix(location)}TEAMS_WEBHOOK_URL, _NTFY_URL or _EMAIL_TO)"
        )
    outcomes = []
    for name in channels.configured:
        try:
            detail = SENDERS[name](channels, message)
        except Exception as error:  # a receiver never fails the sensor
            log.warning(f"Notification channel {name} of {location.name} failed: {error!r}")
            outcomes.append(ChannelOutcome(name, False, repr(error)))
        else:
            log.info(f"Notification sent to {name} of {location.name}: {detail}")
            outcomes.append(ChannelOutcome(name, True, detail))
    return outcomes
