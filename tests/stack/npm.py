"""Tools published on npm (Azurite, gitlab-ci-local), installed into ``.local/`` on first use."""

import json
import shutil
import subprocess
from pathlib import Path

from filelock import FileLock


class NodeToolUnavailable(RuntimeError):
    """A tool run on node cannot be installed or started here (no node/npm, no registry)."""


def npm_executable(prefix: Path, package: str, version: str, binary: str) -> Path:
    """Return the executable ``binary`` of ``package@version``, installed under ``prefix``.

    npm installs the pinned version when another one, or none, is there, one install at a time
    (a file lock beside ``prefix``: a second install would rewrite the files of a running tool).

    Raises:
        NodeToolUnavailable: node (or npm, to install) is missing, or ``npm install`` fails.
    """
    executable = prefix / "node_modules" / ".bin" / binary
    manifest = prefix / "node_modules" / package / "package.json"
    prefix.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{prefix}.lock"):
        installed = executable.exists() and json.loads(manifest.read_text())["version"] == version
        needed = ("node",) if installed else ("node", "npm")
        missing = [tool for tool in needed if not shutil.which(tool)]
        if missing:
            raise NodeToolUnavailable(
                f"{package} needs {' and '.join(missing)} (apt-get install nodejs npm)"
            )
        if installed:
            return executable
        install = subprocess.run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
             f"{package}@{version}"], capture_output=True, text=True, check=False,
        )  # fmt: skip
        if install.returncode != 0 or not executable.exists():
            raise NodeToolUnavailable(f"npm install {package} failed: {install.stderr[-1500:]}")
        return executable
