"""The Dagster webserver's GraphQL API for the stack tests: dagster-graphql's client, and gql.

``DagsterGraphQLClient`` launches runs, reads their status and reloads locations; what it has no
method for (the load status of the locations, the assets of a location, what a run materialized,
asset check results, runless materializations) is a GraphQL query sent with gql, its own
transport. Every function takes the webserver's base URL (``http://127.0.0.1:3000``).
"""

import time
from urllib.parse import urlsplit

from dagster_graphql import DagsterGraphQLClient, ReloadRepositoryLocationStatus
from gql import Client, gql
from gql.transport.exceptions import TransportConnectionFailed, TransportServerError
from gql.transport.requests import RequestsHTTPTransport

REPOSITORY = "__repository__"  # the repository name Dagster gives to a Definitions object
ASSET_JOB = "__ASSET_JOB"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def transport(base_url: str, timeout: int = 60) -> RequestsHTTPTransport:
    """The HTTP transport to the webserver's ``/graphql``, waiting ``timeout`` s for answers."""
    return RequestsHTTPTransport(url=f"{base_url}/graphql", timeout=timeout)


def client(base_url: str, timeout: int = 60) -> DagsterGraphQLClient:
    """Dagster's GraphQL client of the webserver at ``base_url``."""
    return DagsterGraphQLClient(urlsplit(base_url).netloc, transport=transport(base_url, timeout))


def query(base_url: str, text: str, variables: dict | None = None) -> dict:
    """Send a GraphQL query and return its ``data``.

    Raises:
        gql.transport.exceptions.TransportQueryError: the answer carries ``errors``.
        gql.transport.exceptions.TransportConnectionFailed: the webserver cannot be reached.
    """
    return Client(transport=transport(base_url)).execute(gql(text), variable_values=variables)


LOCATIONS_QUERY = """query { workspaceOrError {
  __typename
  ... on Workspace { locationEntries { name loadStatus locationOrLoadError {
    __typename ... on PythonError { message errorChain { error { message } } }
  } } }
  ... on PythonError { message }
} }"""


def location_statuses(base_url: str) -> dict[str, dict]:
    """Return ``{location: {"loaded": bool, "loading": bool, "error": str | None}}``.

    ``error`` joins the load error's message with the messages of its causes.
    """
    workspace = query(base_url, LOCATIONS_QUERY)["workspaceOrError"]
    assert workspace["__typename"] == "Workspace", workspace
    statuses = {}
    for entry in workspace["locationEntries"]:
        location = entry["locationOrLoadError"] or {"__typename": None}
        error = location["__typename"] == "PythonError"
        causes = [link["error"]["message"] for link in location["errorChain"]] if error else []
        statuses[entry["name"]] = {
            "loaded": location["__typename"] == "RepositoryLocation",
            "loading": entry["loadStatus"] == "LOADING",
            "error": "\n".join([location["message"], *causes]) if error else None,
        }
    return statuses


def wait_for_locations(base_url: str, names, timeout: float = 300) -> dict[str, dict]:
    """Wait until every location in ``names`` has finished loading; return the statuses.

    Raises:
        TimeoutError: a location is still loading (or absent) after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    statuses: dict[str, dict] = {}
    while time.monotonic() < deadline:
        try:
            statuses = location_statuses(base_url)
        except (TransportConnectionFailed, TransportServerError):
            statuses = {}
        if all(n in statuses and not statuses[n]["loading"] for n in names):
            if all(statuses[n]["loaded"] or statuses[n]["error"] for n in names):
                return statuses
        time.sleep(2)
    raise TimeoutError(f"locations {sorted(names)} not loaded within {timeout} s: {statuses}")


ASSETS_QUERY = """query ($location: String!, $repository: String!) {
  repositoryOrError(
    repositorySelector: {repositoryLocationName: $location, repositoryName: $repository}
  ) {
    __typename
    ... on Repository { assetNodes { assetKey { path } isMaterializable } }
    ... on PythonError { message }
} }"""


def location_asset_keys(base_url: str, location_name: str) -> list[list[str]]:
    """Return the key paths of the materializable assets a location defines."""
    repository = query(
        base_url, ASSETS_QUERY, {"location": location_name, "repository": REPOSITORY}
    )["repositoryOrError"]
    assert repository["__typename"] == "Repository", repository
    return [
        node["assetKey"]["path"] for node in repository["assetNodes"] if node["isMaterializable"]
    ]


def launch_location_run(
    base_url: str, location_name: str, keys: list[str] | None = None, timeout: float = 60
) -> str:
    """Launch (through the run queue) a run materializing assets of a location.

    Args:
        base_url: the webserver.
        location_name: the code location.
        keys: the asset keys to materialize, as ``"a/b"``; ``None`` means every asset of the
            location.
        timeout: seconds to wait for the webserver's answer.

    Returns:
        The run id.

    Raises:
        AssertionError: no key, or a key that is no materializable asset of the location.
        dagster_graphql.DagsterGraphQLClientError: the launch was refused (the answer is in it).
    """
    # Checked here: the client cannot read the webserver's answer to an unknown key.
    known = ["/".join(path) for path in location_asset_keys(base_url, location_name)]
    keys = known if keys is None else keys
    assert keys and set(keys) <= set(known), f"{location_name}: {set(keys) - set(known) or keys}"
    return client(base_url, timeout).submit_job_execution(
        ASSET_JOB,
        location_name,
        REPOSITORY,
        tags={"test": "stack"},
        asset_selection=[key.split("/") for key in keys],
    )


RUN_QUERY = """query ($runId: ID!) { runOrError(runId: $runId) {
  __typename
  ... on Run { status assetMaterializations { assetKey { path } } }
  ... on RunNotFoundError { message }
} }"""


def run_details(base_url: str, run_id: str) -> dict:
    """Return ``{"status": str, "materialized": set of "a/b" keys}`` of a run, from storage."""
    run = query(base_url, RUN_QUERY, {"runId": run_id})["runOrError"]
    assert run["__typename"] == "Run", run
    return {
        "status": run["status"],
        "materialized": {"/".join(m["assetKey"]["path"]) for m in run["assetMaterializations"]},
    }


def wait_for_run(base_url: str, run_id: str, timeout: float = 1200) -> str:
    """Wait until a run finishes and return its status (``SUCCESS``, ``FAILURE``, ``CANCELED``).

    Raises:
        TimeoutError: the run has not finished after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    status, dagster = None, client(base_url)
    while time.monotonic() < deadline:
        status = dagster.get_run_status(run_id).value
        if status in FINISHED:
            return status
        time.sleep(3)
    raise TimeoutError(f"run {run_id} still {status} after {timeout} s")


def reload_location(base_url: str, location_name: str) -> None:
    """Ask the webserver to reload a code location (as the UI's "Reload" button does).

    A location that reloads with a load error is no failure here (:func:`location_statuses`
    reports it).

    Raises:
        AssertionError: the webserver refused the reload (no such location...).
    """
    info = client(base_url, timeout=300).reload_repository_location(location_name)
    ok = info.status == ReloadRepositoryLocationStatus.SUCCESS or info.failure_type == "PythonError"
    assert ok, info


CHECKS_QUERY = """query ($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
  __typename
  ... on AssetNode { assetChecksOrError {
    __typename
    ... on AssetChecks { checks { name executionForLatestMaterialization { runId status } } }
  } }
} }"""


def asset_check_results(base_url: str, key: str) -> dict[str, tuple[str | None, str | None]]:
    """Return ``{check name: (run id, status)}`` of the asset's latest materialization.

    Args:
        base_url: the webserver.
        key: the asset key as ``"a/b"``.
    """
    node = query(base_url, CHECKS_QUERY, {"key": {"path": key.split("/")}})["assetNodeOrError"]
    assert node["__typename"] == "AssetNode", node
    checks = node["assetChecksOrError"]
    assert checks["__typename"] == "AssetChecks", checks
    executions = {c["name"]: c["executionForLatestMaterialization"] or {} for c in checks["checks"]}
    return {name: (run.get("runId"), run.get("status")) for name, run in executions.items()}


REPORT_MUTATION = """mutation ($params: ReportRunlessAssetEventsParams!) {
  reportRunlessAssetEvents(eventParams: $params) { __typename ... on Error { message } }
}"""


def report_materializations(base_url: str, keys: list[list[str]], description: str) -> None:
    """Report assets as materialized outside Dagster (the UI's "Report materialization events").

    Args:
        base_url: the webserver.
        keys: asset key paths, e.g. ``[["ags", "fct_walks"]]``.
        description: shown with each event in the UI.

    Raises:
        AssertionError: the webserver refused one of them.
    """
    for path in keys:
        params = {
            "eventType": "ASSET_MATERIALIZATION",
            "assetKey": {"path": path},
            "description": description,
        }
        answer = query(base_url, REPORT_MUTATION, {"params": params})["reportRunlessAssetEvents"]
        assert answer["__typename"] == "ReportRunlessAssetEventsSuccess", answer
