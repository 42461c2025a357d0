"""Load a workspace the way the webserver does and print each location's status as JSON.

Run as ``python workspace_probe.py <workspace.yaml>`` from the workspace's folder; used by the
tests to prove that one broken code location leaves the others loaded.
"""

import json
import sys

from dagster import instance_for_test
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget


def main(workspace_file: str) -> None:
    """Print ``{location: {"loaded": bool, "error": str | None, "assets": int}}``."""
    with instance_for_test() as instance:
        target = WorkspaceFileTarget(paths=[workspace_file])
        with WorkspaceProcessContext(instance, target) as context:
            entries = context.create_request_context().get_code_location_entries()
            status = {}
            for name, entry in entries.items():
                assets = 0
                if entry.code_location is not None:
                    for repository in entry.code_location.get_repositories().values():
                        assets += len(repository.get_asset_node_snaps())
                status[name] = {
                    "loaded": entry.code_location is not None,
                    "error": entry.load_error.to_string() if entry.load_error else None,
                    "assets": assets,
                }
    print(json.dumps(status))


if __name__ == "__main__":
    main(sys.argv[1])
