"""The Dagster webserver's GraphQL API for the stack tests: dagster-graphql's client, and gql.

``DagsterGraphQLClient`` launches runs, reads their status and reloads locations; what it has no
method for (locations' load status, what a run materialized, reported materializations) is a
query sent with gql, its own transport. Every function takes the webserver's base URL; an
answer with ``errors`` raises gql's ``TransportQueryError``.
"""

from urllib.parse import urlsplit

from dagster_graphql import (
    DagsterGraphQLClient,
    DagsterGraphQLClientError,
    ReloadRepositoryLocationStatus,
)
from gql import Client, gql
from gql.transport.exceptions import TransportConnectionFailed, TransportServerError
from gql.transport.requests import RequestsHTTPTransport

from tests.stack.processes import wait_until

REPOSITORY = "__repository__"  # the repository name Dagster gives to a Definitions object


def client(base_url: str, timeout: int = 60) -> DagsterGraphQLClient:
    """Dagster's GraphQL client of the webserver at ``base_url`` (``timeout`` s per answer)."""
    transport = RequestsHTTPTransport(url=f"{base_url}/graphql", timeout=timeout)
    return DagsterGraphQLClient(urlsplit(base_url).netloc, transport=transport)


def query(base_url: str, text: str, variables: dict | None = None) -> dict:
    """Send a GraphQL query and return its ``data``."""
    transport = RequestsHTTPTransport(url=f"{base_url}/graphql", timeout=60)
    return Client(transport=transport).execute(gql(text), variable_values=variables)


LOCATIONS_QUERY = """query { workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError {
    __typename ... on PythonError { message errorChain { error { message } } }
} } } } }"""


def wait_for_locations(base_url: str, names, timeout: float = 300) -> dict[str, dict]:
    """Wait until every location in ``names`` has loaded or failed to; return the statuses,
    ``{location: {"loaded": bool, "error": str | None}}`` (the load error's message joined with
    the messages of its causes).

    Raises:
        TimeoutError: a location is still loading (or absent) after ``timeout`` seconds.
    """

    def statuses() -> dict[str, dict] | None:
        try:
            entries = query(base_url, LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
        except (TransportConnectionFailed, TransportServerError):
            return None
        found = {}
        for entry in entries:
            location = entry["locationOrLoadError"] or {"__typename": None}
            causes = [link["error"]["message"] for link in location.get("errorChain", [])]
            error = "\n".join([location["message"], *causes]) if "message" in location else None
            loaded = location["__typename"] == "RepositoryLocation"
            if entry["loadStatus"] != "LOADING" and (loaded or error):
                found[entry["name"]] = {"loaded": loaded, "error": error}
        return found if set(names) <= set(found) else None

    return wait_until(statuses, timeout, f"locations {sorted(names)}", interval=2)


def launch_location_run(base_url: str, location_name: str, keys: list[str]) -> str:
    """Launch (through the run queue) a run materializing ``keys`` (``"a/b"``); return its id.

    Raises:
        dagster_graphql.DagsterGraphQLClientError: the launch was refused (the answer is in it).
    """
    selection = [key.split("/") for key in keys]
    return client(base_url).submit_job_execution(
        "__ASSET_JOB", location_name, REPOSITORY, tags={"test": "stack"}, asset_selection=selection
    )


RUN_QUERY = """query ($runId: ID!) { runOrError(runId: $runId) {
  ... on Run { status assetMaterializations { assetKey { path } } }
} }"""


def run_details(base_url: str, run_id: str) -> dict:
    """Return ``{"status": str, "materialized": set of "a/b" keys}`` of a run, from storage."""
    run = query(base_url, RUN_QUERY, {"runId": run_id})["runOrError"]
    materialized = {"/".join(m["assetKey"]["path"]) for m in run["assetMaterializations"]}
    return {"status": run["status"], "materialized": materialized}


DATABASE_ERRORS_TOLERATED = 5
"""Answers in a row naming a lost database connection that :func:`wait_for_run` polls through."""


def wait_for_run(base_url: str, run_id: str, timeout: float = 1200) -> str:
    """Wait until a run finishes and return its status (``SUCCESS``, ``FAILURE``, ``CANCELED``).

    Raises:
        TimeoutError: the run has not finished after ``timeout`` seconds.
    """
    dagster = client(base_url)
    lost: list[str] = []

    def finished() -> str | None:
        try:
            status = dagster.get_run_status(run_id).value
        except DagsterGraphQLClientError as error:
            # The webserver keeps one pooled PostgreSQL connection; when the server drops it,
            # that one answer is an OperationalError and the next query opens a new connection
            # (as the UI, polling, shows it). A database that stays away fails the wait.
            said = f"{error} {error.__cause__}"  # the client wraps the server's answer
            if "OperationalError" not in said or len(lost) >= DATABASE_ERRORS_TOLERATED:
                raise
            lost.append(str(error))
            print(f"run {run_id}: the webserver lost its database connection, polling again")
            return None
        lost.clear()
        return status if status in {"SUCCESS", "FAILURE", "CANCELED"} else None

    return wait_until(finished, timeout, f"run {run_id}", interval=3)


def reload_location(base_url: str, location_name: str) -> None:
    """Reload a code location as the UI's "Reload" button does (a load error is no failure here:
    :func:`location_statuses` reports it).

    Raises:
        AssertionError: the webserver refused the reload (no such location...).
    """
    info = client(base_url, timeout=300).reload_repository_location(location_name)
    ok = info.status == ReloadRepositoryLocationStatus.SUCCESS or info.failure_type == "PythonError"
    assert ok, info


ASSETS_QUERY = """query ($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    ... on Repository { assetNodes { assetKey { path } isMaterializable } }
} }"""
REPORT_MUTATION = """mutation ($params: ReportRunlessAssetEventsParams!) {
  reportRunlessAssetEvents(eventParams: $params) { __typename ... on Error { message } }
}"""


def report_materializations(base_url: str, location_name: str, description: str) -> None:
    """Report every materializable asset of a location as materialized outside Dagster (as the
    UI's "Report materialization events" does), with ``description``.

    Raises:
        AssertionError: the webserver refused one of them.
    """
    selector = {"repositoryLocationName": location_name, "repositoryName": REPOSITORY}
    nodes = query(base_url, ASSETS_QUERY, {"selector": selector})["repositoryOrError"]["assetNodes"]
    for node in filter(lambda node: node["isMaterializable"], nodes):
        params = {"eventType": "ASSET_MATERIALIZATION", "assetKey": node["assetKey"]}
        variables = {"params": {**params, "description": description}}
        answer = query(base_url, REPORT_MUTATION, variables)["reportRunlessAssetEvents"]
        assert answer["__typename"] == "ReportRunlessAssetEventsSuccess", answer
