"""A small client for the Dagster webserver's GraphQL API, used by the stack tests.

Every function takes the webserver's base URL (``http://127.0.0.1:3000``) and raises
``AssertionError`` with the server's answer when the API reports an error.
"""

import json
import time
import urllib.error
import urllib.request

REPOSITORY = "__repository__"  # the repository name Dagster gives to a Definitions object
ASSET_JOB = "__ASSET_JOB"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def query(base_url: str, text: str, variables: dict | None = None, timeout: float = 60) -> dict:
    """POST a GraphQL query and return its ``data``.

    Raises:
        AssertionError: the answer carries ``errors``.
        urllib.error.URLError: the webserver cannot be reached.
    """
    request = urllib.request.Request(
        f"{base_url}/graphql",
        data=json.dumps({"query": text, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.load(response)
    assert not answer.get("errors"), answer["errors"]
    return answer["data"]


LOCATIONS_QUERY = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message errorChain { error { message } } }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""


def location_statuses(base_url: str) -> dict[str, dict]:
    """Return ``{location: {"loaded": bool, "loading": bool, "error": str | None}}``.

    ``error`` joins the load error's message with the messages of its causes.
    """
    workspace = query(base_url, LOCATIONS_QUERY)["workspaceOrError"]
    assert workspace["__typename"] == "Workspace", workspace
    statuses = {}
    for entry in workspace["locationEntries"]:
        location = entry["locationOrLoadError"] or {}
        statuses[entry["name"]] = {
            "loaded": location.get("__typename") == "RepositoryLocation",
            "loading": entry["loadStatus"] == "LOADING",
            "error": "\n".join(
                [
                    location["message"],
                    *[link["error"]["message"] for link in location["errorChain"]],
                ]
            )
            if location.get("__typename") == "PythonError"
            else None,
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
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            statuses = {}
        if all(n in statuses and not statuses[n]["loading"] for n in names):
            if all(statuses[n]["loaded"] or statuses[n]["error"] for n in names):
                return statuses
        time.sleep(2)
    raise TimeoutError(f"locations {sorted(names)} not loaded within {timeout} s: {statuses}")


ASSETS_QUERY = """
query ($location: String!, $repository: String!) {
  repositoryOrError(
    repositorySelector: {repositoryLocationName: $location, repositoryName: $repository}
  ) {
    __typename
    ... on Repository { assetNodes { assetKey { path } isMaterializable } }
    ... on PythonError { message }
  }
}
"""

LAUNCH_MUTATION = """
mutation ($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""


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
        AssertionError: the launch was refused (the answer is in the message).
    """
    if keys is None:
        keys = ["/".join(path) for path in location_asset_keys(base_url, location_name)]
    assert keys, f"{location_name} has no materializable asset"
    keys = [key.split("/") for key in keys]
    params = {
        "selector": {
            "repositoryLocationName": location_name,
            "repositoryName": REPOSITORY,
            "jobName": ASSET_JOB,
            "assetSelection": [{"path": path} for path in keys],
        },
        "mode": "default",
        "executionMetadata": {"tags": [{"key": "test", "value": "stack"}]},
    }
    result = query(base_url, LAUNCH_MUTATION, {"params": params}, timeout=timeout)["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


RUN_QUERY = """
query ($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status assetMaterializations { assetKey { path } } }
    ... on RunNotFoundError { message }
  }
}
"""


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
    status = None
    while time.monotonic() < deadline:
        status = run_details(base_url, run_id)["status"]
        if status in FINISHED:
            return status
        time.sleep(3)
    raise TimeoutError(f"run {run_id} still {status} after {timeout} s")


RELOAD_MUTATION = """
mutation ($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) {
    __typename
    ... on WorkspaceLocationEntry { name loadStatus }
    ... on PythonError { message }
  }
}
"""


def reload_location(base_url: str, location_name: str) -> None:
    """Ask the webserver to reload a code location (as the UI's "Reload" button does)."""
    answer = query(base_url, RELOAD_MUTATION, {"name": location_name}, timeout=300)
    assert answer["reloadRepositoryLocation"]["__typename"] == "WorkspaceLocationEntry", answer


CHECKS_QUERY = """
query ($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    __typename
    ... on AssetNode {
      assetChecksOrError {
        __typename
        ... on AssetChecks { checks { name executionForLatestMaterialization { runId status } } }
      }
    }
  }
}
"""


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
    results = {}
    for check in checks["checks"]:
        execution = check["executionForLatestMaterialization"] or {}
        results[check["name"]] = (execution.get("runId"), execution.get("status"))
    return results


REPORT_MUTATION = """
mutation ($params: ReportRunlessAssetEventsParams!) {
  reportRunlessAssetEvents(eventParams: $params) {
    __typename
    ... on PythonError { message }
    ... on UnauthorizedError { message }
  }
}
"""


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
