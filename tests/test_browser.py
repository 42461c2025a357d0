"""The analyst's path, clicked in a real browser (Playwright driving Debian's Chromium).

The UI is the session's process stack (``process_stack``: PostgreSQL, one code server per
location, daemon, webserver), whose lake and warehouse already hold every location's data, as
after the nightly runs; the dbt docs site (built once per session) is served beside it. The sport
mart is found, read and materialized again from the UI. Every step saves a screenshot
under ``test-artifacts/browser/``; a failing step saves ``<step>-FAILED.png`` and names itself.
"""

import os
import re
import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from data_platform.locations import LOCATIONS
from data_platform.settings import REPO_ROOT
from tests.stack import graphql

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("process_stack")]

BIN = Path(sys.executable).parent
CHROMIUM = Path(os.environ.get("PLATFORM_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
NAMES = [location.name for location in LOCATIONS]
MART = "ags/fct_walks_per_commune"
SHARED_UPSTREAM = "data_platform/dim_communes"
TIMEOUT_MS = 120_000


CHECKS_QUERY = """query ($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
  ... on AssetNode { assetChecksOrError { ... on AssetChecks {
    checks { name executionForLatestMaterialization { runId status } }
} } } } }"""


def asset_check_results(base_url: str, key: str) -> dict[str, tuple[str | None, str | None]]:
    """Return ``{check name: (run id, status)}`` of the latest materialization of ``key`` (a/b)."""
    variables = {"key": {"path": key.split("/")}}
    node = graphql.query(base_url, CHECKS_QUERY, variables)["assetNodeOrError"]
    checks = node["assetChecksOrError"]["checks"]
    executions = {c["name"]: c["executionForLatestMaterialization"] or {} for c in checks}
    return {name: (run.get("runId"), run.get("status")) for name, run in executions.items()}


@dataclass
class RunningPlatform:
    url: str
    docs_url: str


def require_chromium() -> None:
    """Skip (or, with ``PLATFORM_REQUIRE_BROWSER=1``, fail) when Chromium is missing."""
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("PLATFORM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}; PLATFORM_REQUIRE_BROWSER=1 forbids skipping", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def platform(process_stack, dbt_docs_site, docs_url) -> RunningPlatform:
    """The session's process stack (its lake holds every location's data) and the docs site."""
    require_chromium()
    graphql.wait_for_locations(process_stack.url, NAMES)
    return RunningPlatform(url=process_stack.url, docs_url=docs_url)


@pytest.fixture(scope="module")
def browser_page(platform):
    from playwright.sync_api import expect, sync_playwright

    # The UI may answer slowly on a busy CI machine: assertions wait as long as actions do.
    expect.set_options(timeout=TIMEOUT_MS)

    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 960}, locale="fr-BE")
        page.set_default_timeout(TIMEOUT_MS)
        # The UI's first-visit dialog (newsletter) may show at any time on a slow machine and
        # then intercepts every click: Playwright dismisses it whenever it shows.
        page.add_locator_handler(page.get_by_role("button", name="Skip"), lambda skip: skip.click())
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


def test_the_analysts_path(platform, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    url = platform.url

    with step(page, "01-code-locations-loaded"):
        page.goto(f"{url}/locations")
        for name in NAMES:
            row = page.locator("[class*='CodeLocationRow_rowGrid']").filter(
                has=page.get_by_text(name, exact=True)
            )
            expect(row).to_have_count(1)
            expect(row).to_contain_text("Loaded")

    with step(page, "02-catalog-groups"):
        for location in LOCATIONS:
            group = f"{location.dbt_project}_marts"
            # The UI's first-visit dialog can show while the selection is typed: its handler
            # dismisses it, and the typing is lost, so the selection is typed again.
            for attempt in range(3):
                page.goto(f"{url}/assets")
                page.locator(".CodeMirror").first.click()
                page.keyboard.type(f'group:"{group}"')
                page.keyboard.press("Enter")
                try:
                    expect(page).to_have_url(re.compile("asset-selection=group"), timeout=40_000)
                    break
                except AssertionError:
                    if attempt == 2:
                        raise
            expect(page.get_by_text(group, exact=True).first).to_be_visible()
            rows = page.locator("input[data-testid^='checkbox-']")
            keys = rows.evaluate_all("els => els.map(e => e.dataset.testid.slice(9))")
            assert keys, group
            assert all(key.startswith(f"{location.dbt_project}/") for key in keys), (group, keys)
            if location.dbt_project == "ags":
                assert MART in keys, keys
            page.screenshot(path=ARTIFACTS / f"02-catalog-{group}.png")

    with step(page, "03-mart-description-columns-owner"):
        page.goto(f"{url}/assets/{MART}")
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
        page.goto(f"{url}/assets/{MART}")
        page.get_by_role("button").filter(has_text="Materialize").first.click()
        view = page.get_by_role("link", name="View", exact=True)
        expect(view).to_be_visible()
        run_path = view.get_attribute("href")
        run_id = run_path.rstrip("/").split("/")[-1]
        view.click()
        expect(page).to_have_url(re.compile(re.escape(run_id)))

    with step(page, "07-run-succeeds"):
        # The run page streams the run's logs: a blank page while the run lasts spares the
        # browser's CPU on a 2-core machine; the run page is opened again once it is over.
        page.goto("about:blank")
        assert graphql.wait_for_run(url, run_id) == "SUCCESS", run_id
        page.goto(f"{url}{run_path}")
        expect(page.get_by_text("Success", exact=True).first).to_be_visible()
        assert MART in graphql.run_details(url, run_id)["materialized"]

    with step(page, "08-asset-checks-pass"):
        results = asset_check_results(url, MART)
        assert results, "the mart has no asset check"
        assert {status for _, status in results.values()} == {"SUCCEEDED"}, results
        assert {run for run, _ in results.values()} == {run_id}, results
        page.goto(f"{url}/assets/{MART}?view=checks")
        # The list truncates the check names in the middle: count the statuses instead.
        expect(page.get_by_text(f"Checks ({len(results)})", exact=True)).to_be_visible()
        expect(page.get_by_text("Succeeded", exact=True)).to_have_count(len(results))

    with step(page, "09-automation-page-lists-every-locations-sensors"):
        page.goto(f"{url}/automation")
        for location in LOCATIONS:
            project = location.dbt_project
            for sensor in (f"{project}_automation", f"{project}_raw_files"):
                expect(page.get_by_text(sensor, exact=True).first).to_be_visible()
        expect(page.get_by_text(f"{LOCATIONS[1].dbt_project}_daily", exact=True)).to_be_visible()

    with step(page, "10-mart-shows-its-automation-condition-and-lake-file"):
        page.goto(f"{url}/assets/{MART}")
        expect(page.get_by_text("eager", exact=False).first).to_be_visible()
        expect(page.get_by_text(f"marts/{MART}.parquet").first).to_be_visible()
        expect(page.get_by_text("Raw SQL")).to_have_count(0)
