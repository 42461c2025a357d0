"""gitlab-ci-local (npm package): which jobs of a GitLab CI configuration a pipeline runs.

It evaluates ``rules`` (``if``, ``changes``, ``exists``...) with GitLab's predefined variables
(``--variable`` overrides them), so that tests can ask what a push, a merge request or a tag runs
without a GitLab instance, and runs jobs with ``--force-shell-executor``. It is installed with npm
into ``.local/node`` (git-ignored) on first use (fixture ``gitlab_ci_local``). The helpers below
only call it; what they add is the ``workflow:rules`` it does not evaluate.
"""

import json
import re
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import yaml

from data_platform.settings import REPO_ROOT
from tests.stack.platform import clean_environment

VERSION = "4.73.0"
PREFIX = REPO_ROOT / ".local" / "node"
WORKFLOW_JOB = "workflow:rules"
"""The job that stands for ``workflow:rules`` in :func:`pipeline_jobs`."""


def gcl(executable: Path, cwd: Path, *args: str, timeout: int = 2400):
    """Run gitlab-ci-local in ``cwd`` (its home: ``cwd``'s sibling ``gcl-home``), output merged."""
    return subprocess.run(
        [str(executable), "--no-color", "--home", str(cwd.parent / "gcl-home"), *args],
        cwd=cwd,
        env=clean_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def listed_jobs(executable: Path, cwd: Path, *options: str) -> dict[str, str]:
    """Return ``{job: when}`` of every job ``gitlab-ci-local --list-json`` lists in ``cwd``
    (``when`` is ``never`` for the jobs the pipeline does not run).

    Raises:
        AssertionError: gitlab-ci-local failed (its output is in the message).
    """
    result = gcl(executable, cwd, "--list-json", *options)
    assert result.returncode == 0, result.stdout
    start = re.search(r"^\[$", result.stdout, re.MULTILINE)  # warnings may come first
    assert start, result.stdout
    jobs, _ = json.JSONDecoder().raw_decode(result.stdout[start.start() :])
    return {job["name"]: job["when"] for job in jobs}


def pipeline_jobs(
    executable: Path, config: Path, variables: Mapping[str, str], every: bool = False
) -> dict[str, str] | None:
    """Return ``{job: when}`` of the jobs a pipeline with these variables runs.

    ``config`` has no local include (a copy is listed); ``variables`` (``CI_COMMIT_BRANCH``...)
    replace gitlab-ci-local's predefined ones (``CI_COMMIT_BRANCH`` is unset when absent);
    ``every`` lists the jobs it does not run too (``when`` ``never``).

    Returns:
        The jobs, or ``None`` when ``workflow:rules`` create no pipeline (gitlab-ci-local 4.73
        does not evaluate them: they become the rules of one more job, :data:`WORKFLOW_JOB`).

    Raises:
        AssertionError: gitlab-ci-local failed (its output is in the message).
    """
    text = config.read_text()
    rules = None if every else (yaml.safe_load(text).get("workflow") or {}).get("rules")
    if rules:
        probe = {"stage": ".pre", "script": ["true"], "rules": rules}
        text += "\n" + yaml.safe_dump({WORKFLOW_JOB: probe})
    options = [option for item in variables.items() for option in ("--variable", "=".join(item))]
    options += ["--ignore-predefined-vars", ",".join(variables)] if variables else []
    options += [] if "CI_COMMIT_BRANCH" in variables else ["--unset-variable", "CI_COMMIT_BRANCH"]
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder, "pipeline")
        cwd.mkdir()
        (cwd / ".gitlab-ci.yml").write_text(text)
        jobs = listed_jobs(executable, cwd, "--no-json-schema-validation", *options)
    if every:
        return jobs
    jobs = {name: when for name, when in jobs.items() if when != "never"}
    if rules and jobs.pop(WORKFLOW_JOB, None) is None:
        return None
    return jobs
