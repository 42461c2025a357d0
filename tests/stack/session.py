"""Work done once per test session, whichever pytest-xdist worker asks first.

Under pytest-xdist every worker runs the session fixtures of its own; what must happen once per
session (the manifests, the real data, the dbt docs site, the dbt unit test builds) runs under a
file lock in the folder that the workers share. pytest-xdist has no such feature (its docs
recommend this very file lock pattern).
"""

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock


def once_per_session(
    tmp_path_factory: pytest.TempPathFactory, name: str, action: Callable[[Path], None]
) -> Path:
    """Run ``action`` once per session into the new folder ``name``; return that folder.

    The folder is shared by the xdist workers (the parent of their base temporary folders). An
    exception of ``action`` fails every later caller too, with its message, instead of a rebuild.
    """
    shared = tmp_path_factory.getbasetemp()
    shared = shared.parent if os.environ.get("PYTEST_XDIST_WORKER") else shared
    folder, done, failed = shared / name, shared / f"{name}.done", shared / f"{name}.failed"
    with FileLock(str(shared / f"{name}.lock")):
        if failed.exists():
            pytest.fail(f"{name} failed earlier in this session:\n{failed.read_text()}")
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            try:
                action(folder)
            except BaseException as error:
                failed.write_text(f"{type(error).__name__}: {error}")
                raise
            done.touch()
    return folder
