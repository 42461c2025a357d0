"""Failure notifications to the channels of the administration that owns a code location.

A failed run, and a failed asset check of severity ERROR (a dbt test of severity ``error``),
send one message to every channel the owning administration configured: an MS Teams incoming
webhook, an ntfy topic and e-mail. The message names the location, the run, the failed steps,
assets and checks, and links to the run in the Dagster UI.

The channels are the Dagster resource :class:`NotificationChannels` (key ``notifications``),
built per location by :meth:`NotificationChannels.from_environment` from the variables
``DATA_PLATFORM_NOTIFY_<ADMIN>_*`` (Teams webhook, ntfy topic and token, e-mail recipients),
``DATA_PLATFORM_SMTP_*`` (the shared SMTP server) and ``DATA_PLATFORM_UI_URL`` (the links),
declared with their meaning and defaults in :mod:`data_platform.environment`.

The transports stay hand-written because Apprise (the usual multi-channel library, tried in
version 2.3) changes what the receivers get: its ``workflows://`` Teams URL is always HTTPS with a
fixed ``/workflows/.../invoke`` path (a webhook URL cannot be given as is), its ntfy plugin posts
JSON to the server's root instead of the topic URL with ``Title``/``Click`` headers, and its
e-mail plugin sends one e-mail per recipient instead of one e-mail to all of them.
"""

from __future__ import annotations

import base64
import logging
import os
import smtplib
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage

import dagster as dg
from dagster_msteams.adaptive_card import AdaptiveCard
from dagster_msteams.client import TeamsClient

from data_platform import environment as env
from data_platform.locations import CodeLocation, get_location

LOGGER = logging.getLogger(__name__)

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


def header_value(text: str) -> str:
    """Return ``text`` usable as an HTTP header: as is if Latin-1, else RFC 2047 (ntfy reads it).

    Source: https://docs.ntfy.sh/publish/ (non-ASCII titles are RFC 2047 encoded).
    """
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return f"=?UTF-8?B?{base64.b64encode(text.encode()).decode()}?="
    return text


class NotificationChannels(dg.ConfigurableResource):  # type: ignore[type-arg]  # generic in its value; used as is
    """The channels of the administration that owns a code location (``None``: not configured).

    The secrets (webhook and topic URLs, token, SMTP password) are :class:`dagster.EnvVar`,
    resolved by Dagster when a sensor runs; the UI shows the other values.
    """

    location: str
    teams_webhook_url: str | None = None
    ntfy_url: str | None = None
    ntfy_token: str | None = None
    email_to: list[str] = []
    smtp_host: str | None = None
    smtp_port: str = env.SMTP_PORT.default_value
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = False
    ui_url: str = env.UI_URL.default_value

    @classmethod
    def from_environment(cls, location: CodeLocation) -> NotificationChannels:
        """Build a location's channels from the variables set now (when the location loads).

        An unset or empty variable leaves its channel unconfigured; a secret (declared so in
        :mod:`data_platform.environment`) becomes a :class:`dagster.EnvVar` only when set, since
        Dagster refuses an unset one when a sensor runs.

        Raises:
            ValueError: ``DATA_PLATFORM_SMTP_STARTTLS`` is not a boolean (:meth:`Variable.flag`).
        """

        def read(variable: env.Variable) -> str | None:
            if variable.secret:
                return variable.setting(location.env_prefix)
            return os.environ.get(variable.for_admin(location.env_prefix)) or None

        recipients = (read(env.NOTIFY_EMAIL_TO) or "").split(",")
        return cls(
            location=location.name,
            teams_webhook_url=read(env.NOTIFY_TEAMS_WEBHOOK_URL),
            ntfy_url=read(env.NOTIFY_NTFY_URL),
            ntfy_token=read(env.NOTIFY_NTFY_TOKEN),
            email_to=[address.strip() for address in recipients if address.strip()],
            smtp_host=read(env.SMTP_HOST),
            smtp_port=env.SMTP_PORT.value(),
            smtp_user=read(env.SMTP_USER),
            smtp_password=read(env.SMTP_PASSWORD),
            smtp_from=read(env.SMTP_FROM),
            smtp_starttls=env.SMTP_STARTTLS.flag(location.env_prefix),
            ui_url=env.UI_URL.value().rstrip("/"),
        )

    def run_url(self, run_id: str) -> str:
        """Return the link to a run in the Dagster UI: ``<UI>/runs/<run_id>``."""
        return f"{self.ui_url}/runs/{run_id}"

    def send_teams(self, message: Notification) -> str:
        """Post the message as an adaptive card to the Teams webhook (dagster-msteams' client).

        Returns:
            The receiver, for the log.

        Raises:
            requests.RequestException: the webhook cannot be reached or refused the card.
        """
        card = AdaptiveCard()
        for line in [f"**{message.title}**", *message.text.splitlines()]:
            card.add_attachment(line)
        card.add_attachment(f"[Open the run in Dagster]({message.url})")
        url = str(self.teams_webhook_url)
        TeamsClient(hook_url=url, timeout=TIMEOUT_SECONDS).post_message(card.payload)
        return url

    def send_ntfy(self, message: Notification) -> str:
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
        if self.ntfy_token:
            headers["Authorization"] = f"Bearer {self.ntfy_token}"
        url = str(self.ntfy_url)
        body = f"{message.text}\n{message.url}".encode()
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS):
            pass
        return url

    def send_email(self, message: Notification) -> str:
        """Send the message by e-mail through the shared SMTP server, one e-mail to all.

        Returns:
            The recipients, for the log.

        Raises:
            ValueError: ``DATA_PLATFORM_SMTP_HOST`` is not set, or ``_PORT`` is not a number.
            OSError: the server cannot be reached (``smtplib.SMTPException`` included).
        """
        if not self.smtp_host:
            raise ValueError("DATA_PLATFORM_SMTP_HOST is not set: no server to send the e-mail")
        email = EmailMessage()
        email["Subject"] = message.title
        email["From"] = self.smtp_from or f"dagster@{self.smtp_host}"
        email["To"] = ", ".join(self.email_to)
        email.set_content(f"{message.text}\n\nRun: {message.url}\n")
        if not self.smtp_port.isdigit():
            raise ValueError(f"DATA_PLATFORM_SMTP_PORT={self.smtp_port!r} is not a port number")
        with smtplib.SMTP(self.smtp_host, int(self.smtp_port), timeout=TIMEOUT_SECONDS) as server:
            if self.smtp_starttls:
                server.starttls()
            if self.smtp_user:
                server.login(self.smtp_user, self.smtp_password or "")
            server.send_message(email)
        return str(email["To"])

    def send(
        self, message: Notification, log: logging.Logger | None = None
    ) -> list[ChannelOutcome]:
        """Send a message to every configured channel, in the order Teams, ntfy, e-mail.

        A channel that fails (receiver down, refused, misconfigured) is logged as a warning
        naming the channel and does not stop the others. Nothing is raised.

        Args:
            message: the message.
            log: where to log (a sensor's ``context.log``); this module's logger by default.

        Returns:
            One outcome per configured channel (empty when the administration configured none).
        """
        log = log or LOGGER
        channels = [
            ("teams", self.teams_webhook_url, self.send_teams),
            ("ntfy", self.ntfy_url, self.send_ntfy),
            ("email", self.email_to, self.send_email),
        ]
        senders = [(name, sender) for name, configured, sender in channels if configured]
        if not senders:
            admin = get_location(self.location).env_prefix
            log.info(
                f"No notification channel configured for {self.location}"
                f" (set {env.NOTIFY_TEAMS_WEBHOOK_URL.for_admin(admin)}, _NTFY_URL or _EMAIL_TO)"
            )
        outcomes = []
        for name, sender in senders:
            try:
                detail = sender(message)
            except Exception as error:  # a receiver never fails the sensor
                log.warning(f"Notification channel {name} of {self.location} failed: {error!r}")
                outcomes.append(ChannelOutcome(name, False, repr(error)))
            else:
                log.info(f"Notification sent to {name} of {self.location}: {detail}")
                outcomes.append(ChannelOutcome(name, True, detail))
        return outcomes
