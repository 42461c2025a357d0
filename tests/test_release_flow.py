"""The steward's release flow with real git submodules and real commitizen, no mocks.

A bare remote stands for the steward's dbt repository (``ags_dbt``) and a temporary platform
repository holds it as a submodule. A new model is committed, released with ``cz bump`` (version
in ``dbt_project.yml``, ``CHANGELOG.md``, tag) and brought into the platform with
``data-platform dbt bump``; the location then loads it as an asset. An unknown tag or a broken
project changes nothing.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from data_platform.settings import REPO_ROOT
from tests.stack.git_repos import BIN, DbtRepo, commit_all, dbt_repo, git, platform_repo, run

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


def bump(platform: Path, tag: str) -> subprocess.CompletedProcess[str]:
    args = [str(BIN / "data-platform"), "dbt", "bump", PROJECT, tag, "--repo", str(platform)]
    return run(args, cwd=platform, check=False)


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


def test_a_plain_directory_is_refused():
    args = ["dbt", "bump", "ags_project", "v0.1.0", "--repo", str(REPO_ROOT)]
    result = run([str(BIN / "data-platform"), *args], cwd=REPO_ROOT, check=False)
    assert result.returncode == 1
    assert "dbt_submodules/ags_dbt is a plain directory, not a submodule" in result.stderr


def test_the_ci_template_of_the_dbt_projects_is_valid_gitlab_ci():
    result = run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(CI_TEMPLATE)],
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = CI_TEMPLATE.read_text()
    for job in ("sqlfluff:", "release:", "bump_platform:", "pages:"):
        assert f"\n{job}" in text
    assert re.search(r"- cz (--no-raise 21 )?bump --yes", text)
    assert "data-platform dbt bump" in text
