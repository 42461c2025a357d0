"""The analyst's path, clicked in a real browser (Playwright driving Debian's Chromium).

The platform is started as a user starts it (``dagster dev`` on the repository's workspace, a
throwaway Dagster home, lake and warehouse) with the dbt docs site beside it. The shared and
sport locations are materialized first through GraphQL, as the nightly runs would have done;
the sport mart is then found, read and materialized again from the UI. Every step saves a screenshot
under ``test-artifacts/browser/``; a failing step saves ``<step>-FAILED.png`` and names itself.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from data_platform.docs_site import DBT_DOCS_URL_ENV
from data_platform.locations import LOCATIONS
from data_platform.settings import LAKE_ROOT_ENV, REPO_ROOT, WAREHOUSE_DIR_ENV
from tests.stack import graphql
from tests.stack.postgres import free_port

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("prepared_manifests")]

BIN = Path(sys.executable).parent
CHROMIUM = Path(os.environ.get("PLATFORM_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
NAMES = [location.name for location in LOCATIONS]
MART = "ags/fct_walks_per_commune"
SHARED_UPSTREAM = "data_platform/dim_communes"
TIMEOUT_MS = 120_000


@dataclass
class RunningPlatform:
    url: str
    docs_url: str
    work: Path


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Wait until ``url`` answers 200; fail with the log when the process died first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, and its children."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Iterator[RunningPlatform]:
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("PLATFORM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}; PLATFORM_REQUIRE_BROWSER=1 forbids skipping", pytrace=False)
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("browser")
    (work / "dagster_home").mkdir()
    port, docs_port = free_port(), free_port()
    docs_url = f"http://127.0.0.1:{docs_port}"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DAGSTER_HOME": str(work / "dagster_home"),
        LAKE_ROOT_ENV: str(work / "lake"),
        WAREHOUSE_DIR_ENV: str(work / "warehouse"),
        DBT_DOCS_URL_ENV: docs_url,
    }
    commands = {
        "dbt-docs": [sys.executable, "-m", "data_platform.docs_site", "serve", "--build",
                     "--dir", str(work / "dbt_docs"), "--port", str(docs_port)],
        "dagster-dev": [str(BIN / "dagster"), "dev", "-w", "workspace.yaml",
                        "-h", "127.0.0.1", "-p", str(port)],
    }  # fmt: skip
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands.items():
            with (work / f"{name}.log").open("wb") as log:
                processes[name] = subprocess.Popen(  # noqa: S603 - fixed command
                    command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/server_info", processes["dagster-dev"], work / "dagster-dev.log", 900)
        graphql.wait_for_locations(url, NAMES, timeout=900)
        # The nightly runs' part: the shared reference marts, then the sport location (its
        # singular dbt tests read several marts at once, so the mart is built here too and the
        # analyst rebuilds it from the UI).
        for name in ("data_platform", "ags_project"):
            run_id = graphql.launch_location_run(url, name)
            status = graphql.wait_for_run(url, run_id)
            log = (work / "dagster-dev.log").read_text(errors="replace")
            assert status == "SUCCESS", f"{name} run {run_id}: {status}\n{log[-6000:]}"
        wait_for_http(f"{docs_url}/index.html", processes["dbt-docs"], work / "dbt-docs.log", 900)
        yield RunningPlatform(url=url, docs_url=docs_url, work=work)
    finally:
        for process in processes.values():
            stop(process)


@pytest.fixture(scope="module")
def browser_page(platform):
    from playwright.sync_api import sync_playwright

    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 960}, locale="fr-BE")
        page.set_default_timeout(TIMEOUT_MS)
        yield page
        browser.close()


@contextmanager
def step(page, name: str):
    """Run one step of the path; screenshot it, or ``<name>-FAILED.png`` and name it on failure."""
    try:
        yield
    except BaseException as error:
        page.screenshot(path=ARTIFACTS / f"{name}-FAILED.png", full_page=True)
        raise AssertionError(f"browser step {name!r} failed: {error}") from error
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def open_page(page, url: str) -> None:
    """Open a UI page, dismissing the first-visit newsletter dialog when it shows."""
    page.goto(url)
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(state="visible", timeout=5_000)
        skip.click()
    except Exception:  # noqa: BLE001 - the dialog shows once per browser profile
        pass


def test_the_analysts_path(platform, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    url = platform.url

    with step(page, "01-code-locations-loaded"):
        open_page(page, f"{url}/locations")
        for name in NAMES:
            row = page.locator("[class*='CodeLocationRow_rowGrid']").filter(
                has=page.get_by_text(name, exact=True)
            )
            expect(row).to_have_count(1)
            expect(row).to_contain_text("Loaded")

    with step(page, "02-catalog-groups"):
        for location in LOCATIONS:
            group = f"{location.dbt_project}_marts"
            open_page(page, f"{url}/assets")
            page.locator(".CodeMirror").first.click()
            page.keyboard.type(f'group:"{group}"')
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile("asset-selection=group"))
            expect(page.get_by_text(group, exact=True).first).to_be_visible()
            rows = page.locator("input[data-testid^='checkbox-']")
            keys = rows.evaluate_all("els => els.map(e => e.dataset.testid.slice(9))")
            assert keys, group
            assert all(key.startswith(f"{location.dbt_project}/") for key in keys), (group, keys)
            if location.dbt_project == "ags":
                assert MART in keys, keys
            page.screenshot(path=ARTIFACTS / f"02-catalog-{group}.png")

    with step(page, "03-mart-description-columns-owner"):
        open_page(page, f"{url}/assets/{MART}")
        expect(page.get_by_text("Marches ADEPS par commune").first).to_be_visible()
        expect(page.get_by_text("walks_per_10k_inhabitants").first).to_be_visible()
        expect(page.get_by_text("Marches non annulées pour 10 000 habitants").first).to_be_visible()
        owners = page.get_by_text("Owners", exact=True).locator("xpath=..")
        expect(owners).to_contain_text("ags")
        docs_link = page.get_by_text(f"{platform.docs_url}/ags/index.html", exact=False).first
        expect(docs_link).to_be_visible()
        docs_href = docs_link.inner_text().strip()

    with step(page, "04-lineage-reaches-the-shared-reference"):
        page.locator("a[href*='view=lineage']").first.click()
        expect(page).to_have_url(re.compile("view=lineage"))
        page.get_by_text("Upstream", exact=True).click()
        expect(page.get_by_text("data_platform_marts").first).to_be_visible()
        expect(page.get_by_text(SHARED_UPSTREAM.split("/")[1]).first).to_be_visible()

    with step(page, "05-dbt-docs"):
        page.goto(docs_href)
        expect(page.get_by_text("fct_walks_per_commune").first).to_be_visible()
        expect(page.get_by_text("Marches ADEPS par commune").first).to_be_visible()

    with step(page, "06-materialize-from-the-ui"):
        open_page(page, f"{url}/assets/{MART}")
        page.get_by_role("button").filter(has_text="Materialize").first.click()
        view = page.get_by_role("link", name="View", exact=True)
        expect(view).to_be_visible()
        run_path = view.get_attribute("href")
        run_id = run_path.rstrip("/").split("/")[-1]
        view.click()

    with step(page, "07-run-succeeds"):
        assert graphql.wait_for_run(url, run_id) == "SUCCESS", run_id
        page.reload()
        expect(page.get_by_text("Success", exact=True).first).to_be_visible()
        assert MART in graphql.run_details(url, run_id)["materialized"]

    with step(page, "08-asset-checks-pass"):
        results = graphql.asset_check_results(url, MART)
        assert results, "the mart has no asset check"
        assert {status for _, status in results.values()} == {"SUCCEEDED"}, results
        assert {run for run, _ in results.values()} == {run_id}, results
        open_page(page, f"{url}/assets/{MART}?view=checks")
        # The list truncates the check names in the middle: count the statuses instead.
        expect(page.get_by_text(f"Checks ({len(results)})", exact=True)).to_be_visible()
        expect(page.get_by_text("Succeeded", exact=True)).to_have_count(len(results))
