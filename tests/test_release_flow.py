"""The steward's release flow with real git submodules and real commitizen, no mocks.

A bare remote stands for the steward's dbt repository (``ags_dbt``) and a temporary platform
repository holds it as a submodule. A new model is committed, released with ``cz bump`` (version
in ``dbt_project.yml``, ``CHANGELOG.md``, tag) and brought into the platform with
``data-platform dbt bump``, run as the ``bump_platform`` job of the CI template runs it; the
location then loads it as an asset. An unknown tag, a broken project or a plain directory
changes nothing. The CI template's jobs are checked for the pipelines they run in (gitlab-ci-local
evaluates their rules), and its release job's commitizen command is run for real.
"""

import argparse
import functools
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from data_platform.locations import LOCATIONS
from data_platform.settings import REPO_ROOT
from data_platform.tools import cli
from tests.stack.git_repos import (
    BIN,
    DbtRepo,
    commit_all,
    dbt_repo,
    git,
    plain_platform_repo,
    platform_repo,
    release_files_repo,
    run,
)
from tests.stack.gitlab_ci_local import pipeline_jobs

PROJECT = "ags_dbt"
SUBMODULE = f"dbt_submodules/{PROJECT}"
CI_TEMPLATE = REPO_ROOT / "ci" / "dbt-project.gitlab-ci.yml"

NEW_MODEL_SQL = """\
-- ADEPS walks per calendar year of the walk date; cancelled walks are counted apart.
with

walks as (

    select * from {{ ref('fct_walks') }}

),

final as (

    select
        year(walk_date) as walk_year,
        count(*) filter (where not is_cancelled) as walks,
        count(*) filter (where is_cancelled) as cancelled_walks
    from walks
    group by year(walk_date)

)

select * from final
"""

NEW_MODEL_YML = """
  - name: fct_walks_per_year
    description: >-
      Marches ADEPS par année civile de la date de marche ; les marches annulées sont comptées
      à part.
    columns:
      - name: walk_year
        description: Année civile de la marche.
        data_tests:
          - unique
          - not_null
      - name: walks
        description: Nombre de marches non annulées.
      - name: cancelled_walks
        description: Nombre de marches annulées.
"""

ASSET_KEYS_PROBE = """\
import json
from ags_project.definitions import defs
keys = defs().resolve_asset_graph().get_all_asset_keys()
print(json.dumps(sorted(key.path for key in keys)))
"""


def version_in(dbt_project_yml: Path) -> str:
    return re.search(r'^version: "([^"]+)"', dbt_project_yml.read_text(), re.M).group(1)


@functools.cache
def ci_template() -> dict[str, Any]:
    return yaml.safe_load(CI_TEMPLATE.read_text())


def commands(script: list[str]) -> list[list[str]]:
    """Return the commands of a job's script, one per line, split into words as sh would."""
    found = []
    for entry in script:
        for line in entry.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                found.append(words)
    return found


def ci_command(job: str, program: str) -> list[str]:
    """Return the one command of a CI template job that runs ``program``, from ``program`` on."""
    found = [words for words in commands(ci_template()[job]["script"]) if program in words]
    assert len(found) == 1, found
    return found[0][found[0].index(program) :]


def parse(argv: list[str]) -> argparse.Namespace:
    """Parse a ``data-platform`` command line as typer does, without running it.

    Returns:
        The ``group`` and ``command`` chosen and the command's parameters by name.
    """
    command, names = typer.main.get_command(cli.app), []
    while hasattr(command, "resolve_command"):
        name, command, argv = command.resolve_command(typer.Context(command), argv)
        names.append(name)
    group, name = names
    return argparse.Namespace(group=group, command=name, **command.make_context(name, argv).params)


def bump(platform: Path, tag: str, project: str = PROJECT) -> subprocess.CompletedProcess[str]:
    """Run the ``bump_platform`` job's ``data-platform`` command as the job does.

    Its variables (``$DBT_PROJECT_NAME``, ``$CI_COMMIT_TAG``) are replaced by ``project`` and
    ``tag``; it runs in the platform clone, whose git toplevel is the repository it bumps.
    """
    program, *args = ci_command("bump_platform", "data-platform")
    values = {"$DBT_PROJECT_NAME": project, "$CI_COMMIT_TAG": tag}
    args = [values.get(arg, arg) for arg in args]
    assert not [arg for arg in args if "$" in arg], args
    return run([str(BIN / program), *args], cwd=platform, check=False)


def state(platform: Path) -> dict[str, str]:
    """What a failed bump must leave unchanged: HEAD, the index, the submodule's checkout."""
    return {
        "head": git(platform, "rev-parse", "HEAD"),
        "index": git(platform, "ls-files", "--stage", "--", SUBMODULE),
        "submodule": git(platform / SUBMODULE, "rev-parse", "HEAD"),
    }


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtRepo, Path]:
    root = tmp_path_factory.mktemp("release_flow")
    steward = dbt_repo(PROJECT, root)
    platform = platform_repo(root / "platform", {PROJECT: steward.remote})
    return steward, platform


@pytest.mark.slow
def test_a_released_model_is_bumped_into_the_platform_and_loads_as_an_asset(repos):
    steward, platform = repos
    dbt_project_yml = steward.work / "dbt_project.yml"
    before = version_in(dbt_project_yml)
    walks = steward.work / "models" / "marts" / "walks"
    (walks / "fct_walks_per_year.sql").write_text(NEW_MODEL_SQL)
    with (walks / "_walks__models.yml").open("a") as models_yml:
        models_yml.write(NEW_MODEL_YML)
    commit_all(steward.work, "feat: walks per year")

    tag = steward.release()

    major, minor, _ = before.split(".")
    after = f"{major}.{int(minor) + 1}.0"
    assert tag == f"v{after}"
    assert version_in(dbt_project_yml) == after
    assert "walks per year" in (steward.work / "CHANGELOG.md").read_text()
    released = git(steward.remote, "rev-parse", f"refs/tags/{tag}^{{commit}}")

    result = bump(platform, tag)

    assert result.returncode == 0, result.stderr
    assert git(platform, "log", "-1", "--format=%B") == f"Update dbt submodule {PROJECT} to {tag}"
    assert git(platform, "rev-parse", f"HEAD:{SUBMODULE}") == released
    assert git(platform / SUBMODULE, "rev-parse", "HEAD") == released
    assert git(platform, "status", "--porcelain", "--untracked-files=no") == ""
    loaded = run([sys.executable, "-c", ASSET_KEYS_PROBE], cwd=platform)
    keys = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert ["ags", "fct_walks_per_year"] in keys
    assert ["ags", "fct_walks"] in keys

    listed = run([str(BIN / "data-platform"), "dbt", "list"], cwd=platform).stdout
    assert re.search(rf"ags_project\s+{SUBMODULE}\s+submodule\s+{tag}$", listed, re.M), listed


def test_an_unknown_tag_is_named_and_changes_nothing(repos):
    _, platform = repos
    before = state(platform)

    result = bump(platform, "v9.9.9")

    assert result.returncode == 1
    assert "'v9.9.9' does not exist in dbt_submodules/ags_dbt" in result.stderr
    assert "latest tags: v" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert state(platform) == before


BROKEN_RELEASES = {
    # dbt cannot parse the project: a model refers to a model that does not exist.
    "v8.0.0": (
        {"models/marts/walks/fct_walks_broken.sql": "select * from {{ ref('no_such_model') }}\n"},
        ["dbt parse of dbt_submodules/ags_dbt failed", "no_such_model"],
    ),
    # dbt parses it, Dagster refuses it: a source declared as published by its own project
    # gets the asset key of the model it names.
    "v8.1.0": (
        {
            "models/marts/walks/_ags__sources.yml": (
                "sources:\n  - name: ags_marts\n    config:\n      meta:\n"
                "        published_by: ags\n    tables:\n      - name: fct_walks\n"
            ),
            "models/marts/walks/fct_walks_again.sql": (
                "select * from {{ source('ags_marts', 'fct_walks') }}\n"
            ),
        },
        ["the definitions of ags_project do not load", "identical Dagster asset keys"],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("tag", sorted(BROKEN_RELEASES))
def test_a_tag_that_breaks_the_location_is_not_committed(repos, tag):
    steward, platform = repos
    files, messages = BROKEN_RELEASES[tag]
    git(steward.work, "checkout", "--quiet", "-b", f"broken-{tag}", "main")
    for path, text in files.items():
        (steward.work / path).write_text(text)
    commit_all(steward.work, f"feat: broken release {tag}")
    git(steward.work, "tag", "--annotate", "--message", f"broken {tag}", tag)
    git(steward.work, "push", "--quiet", "origin", tag)
    git(steward.work, "checkout", "--quiet", "main")
    before = state(platform)
    manifest = platform / SUBMODULE / "target" / "manifest.json"
    manifest_before = manifest.read_bytes() if manifest.exists() else None

    result = bump(platform, tag)

    assert result.returncode == 1
    for message in messages:
        assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert state(platform) == before
    assert (manifest.read_bytes() if manifest.exists() else None) == manifest_before


@pytest.mark.parametrize("location", LOCATIONS, ids=lambda location: location.name)
def test_a_plain_directory_is_refused(tmp_path, location):
    platform = plain_platform_repo(tmp_path / "platform")
    project = location.dbt_project_dir.name
    head = git(platform, "rev-parse", "HEAD")

    result = bump(platform, "v0.1.0", project)

    assert result.returncode == 1
    assert f"dbt_submodules/{project} is a plain directory, not a submodule" in result.stderr
    assert "Traceback" not in result.stderr
    assert git(platform, "rev-parse", "HEAD") == head
    assert git(platform, "status", "--porcelain") == ""


# --- the CI template of the dbt repositories -------------------------------------------------

DEFAULT_BRANCH = "main"


def push(branch: str, message: str = "feat: walks per year", open_mr: bool = False) -> dict:
    """The predefined variables of a branch pipeline."""
    variables = {
        "CI_PIPELINE_SOURCE": "push",
        "CI_DEFAULT_BRANCH": DEFAULT_BRANCH,
        "CI_COMMIT_BRANCH": branch,
        "CI_COMMIT_REF_NAME": branch,
        "CI_COMMIT_MESSAGE": message,
    }
    return variables | ({"CI_OPEN_MERGE_REQUESTS": "stewards/ags_dbt!1"} if open_mr else {})


def tag_pipeline(tag: str) -> dict:
    """The predefined variables of a tag pipeline (no ``CI_COMMIT_BRANCH``)."""
    return {
        "CI_PIPELINE_SOURCE": "push",
        "CI_DEFAULT_BRANCH": DEFAULT_BRANCH,
        "CI_COMMIT_TAG": tag,
        "CI_COMMIT_REF_NAME": tag,
        "CI_COMMIT_MESSAGE": f"Release {tag}",
    }


MERGE_REQUEST = {
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_DEFAULT_BRANCH": DEFAULT_BRANCH,
    "CI_MERGE_REQUEST_IID": "1",
    "CI_COMMIT_REF_NAME": "feature/walks",
    "CI_COMMIT_MESSAGE": "feat: walks per year",
}

PIPELINES = {
    "push to the default branch": (push(DEFAULT_BRANCH), {"sqlfluff", "release"}),
    "release commit on the default branch": (
        push(DEFAULT_BRANCH, "bump: version 0.1.0 → 0.2.0"),
        {"sqlfluff"},
    ),
    "push to a feature branch": (push("feature/walks"), {"sqlfluff"}),
    "merge request": (MERGE_REQUEST, {"sqlfluff"}),
    "release tag": (tag_pipeline("v1.2.0"), {"bump_platform", "pages"}),
    "other tag": (tag_pipeline("nightly"), set()),
}


def test_the_ci_template_of_the_dbt_projects_is_valid_gitlab_ci(gitlab_ci_local):
    result = run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(CI_TEMPLATE)],
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # What the schema does not check: stages, extends and needs name what exists.
    template = ci_template()
    listed = pipeline_jobs(gitlab_ci_local, CI_TEMPLATE, push(DEFAULT_BRANCH), every=True)
    defined = {name: template[name] for name in listed}
    assert set(defined) == {job for _, expected in PIPELINES.values() for job in expected}
    stages = template["stages"]
    for name, job in defined.items():
        assert job.get("stage", "test") in stages, name
        parents = job.get("extends", [])
        parents = [parents] if isinstance(parents, str) else parents
        for parent in parents:
            assert parent in template, f"{name} extends {parent}"
        assert job.get("script") or any(template[p].get("script") for p in parents), name
        for need in job.get("needs", []):
            assert (need if isinstance(need, str) else need["job"]) in defined, name
    # A release only after the lint of the same pipeline.
    assert stages.index(defined["release"]["stage"]) > stages.index(defined["sqlfluff"]["stage"])


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_each_pipeline_of_a_dbt_repository_runs_its_jobs(gitlab_ci_local, pipeline):
    variables, expected = PIPELINES[pipeline]

    selected = pipeline_jobs(gitlab_ci_local, CI_TEMPLATE, variables)

    assert selected is not None, f"{pipeline}: no pipeline"
    assert selected == dict.fromkeys(expected, "on_success")
    for name in selected:
        for need in ci_template()[name].get("needs", []):
            assert (need if isinstance(need, str) else need["job"]) in selected, name


def test_a_branch_with_an_open_merge_request_runs_only_its_merge_request_pipeline(
    gitlab_ci_local,
):
    assert pipeline_jobs(gitlab_ci_local, CI_TEMPLATE, push("feature/walks", open_mr=True)) is None


def test_the_release_job_releases_a_fix_and_succeeds_with_nothing_to_release(
    gitlab_ci_local, tmp_path
):
    program, *args = ci_command("release", "cz")
    assert "bump" in args
    work = release_files_repo(PROJECT, tmp_path / PROJECT)
    dbt_project_yml = work / "dbt_project.yml"

    def release() -> subprocess.CompletedProcess[str]:
        return run([str(BIN / program), *args], work, check=False)

    def tags() -> list[str]:
        return git(work, "tag", "--list").splitlines()

    # The first release: the project's feat commit.
    first = release()
    assert first.returncode == 0, first.stdout + first.stderr
    [released] = tags()
    assert released == f"v{version_in(dbt_project_yml)}"
    # Nothing eligible since (a docs commit): success, nothing committed or tagged. (No commit
    # at all since the tag is another error, exit 3: the rules skip the release commit's push.)
    (work / "README.md").write_text("Marches ADEPS.\n")
    head = commit_all(work, "docs: describe the project")
    nothing = release()
    assert nothing.returncode == 0, nothing.stdout + nothing.stderr
    assert git(work, "rev-parse", "HEAD") == head and tags() == [released]
    # A fix: a patch release, whose commit the release job's rules leave alone.
    (work / "dbt_project.yml").write_text(dbt_project_yml.read_text() + "# fixed\n")
    commit_all(work, "fix: a comment in dbt_project.yml")
    patch = release()
    assert patch.returncode == 0, patch.stdout + patch.stderr
    major, minor, number = released.removeprefix("v").split(".")
    assert version_in(dbt_project_yml) == f"{major}.{minor}.{int(number) + 1}"
    assert sorted(tags()) == sorted([released, f"v{version_in(dbt_project_yml)}"])
    message = git(work, "log", "-1", "--format=%B")
    assert "release" not in pipeline_jobs(
        gitlab_ci_local, CI_TEMPLATE, push(DEFAULT_BRANCH, message)
    )


def test_the_bump_platform_job_bumps_the_submodule_in_a_clone_of_the_platform():
    found = commands(ci_template()["bump_platform"]["script"])

    def position(*prefix: str) -> int:
        [index] = [i for i, words in enumerate(found) if words[: len(prefix)] == list(prefix)]
        return index

    clone = position("git", "clone")
    assert found[clone][-1] == "platform"
    bump_command = position("uv", "run", "data-platform")
    arguments = parse(found[bump_command][3:])
    assert (arguments.group, arguments.command) == ("dbt", "bump")
    assert (arguments.project, arguments.tag) == ("$DBT_PROJECT_NAME", "$CI_COMMIT_TAG")
    # No --repo: the repository is the git toplevel of the working directory, the clone.
    assert not any(word.startswith("--repo") for word in found[bump_command])
    assert arguments.repo == REPO_ROOT  # parsed here, in this repository's working tree
    submodule = position("git", "submodule", "update", "--init")
    assert found[submodule][-1] == "dbt_submodules/$DBT_PROJECT_NAME"
    assert clone < position("cd", "platform") < submodule < bump_command
    assert position("uv", "sync", "--frozen") < bump_command
    assert bump_command < position("git", "push", "origin", "$PLATFORM_BRANCH")
