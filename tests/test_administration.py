"""`data-platform administration add`, `dbt add` and `validate`, in throwaway copies of the repo.

Each copy is a snapshot of the working tree as a git repository (``snapshot_worktree``) with the
session's prepared manifests; the commands run there with the copy's own code (``python -m``
from the copy), so that the registration they write is the one they read back.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from data_platform.locations import LOCATIONS
from data_platform.settings import LAKE_ROOT_ENV, REPO_ROOT, WAREHOUSE_DIR_ENV
from data_platform.tools.cli import render_template
from tests.stack.git_repos import git, git_env
from tests.stack.platform import clean_environment, snapshot_worktree
from tests.test_dbt_profile import SEED_ROWS, write_project

pytestmark = [pytest.mark.usefixtures("prepared_manifests"), pytest.mark.xdist_group("admin")]

NAME = "Administration générale de l'Exemple (ZZZ)"


def platform_copy(destination: Path) -> Path:
    """Snapshot the working tree as a git repository, with every location's prepared manifest."""
    snapshot_worktree(destination, commit=True)
    for location in LOCATIONS:
        target = location.dbt_project_dir.relative_to(REPO_ROOT) / "target"
        (destination / target).mkdir(exist_ok=True)
        shutil.copy(REPO_ROOT / target / "manifest.json", destination / target / "manifest.json")
    return destination


def in_copy(copy: Path, *args: str, env: dict[str, str] | None = None):
    """Run ``python -m <args>`` in the copy, with its code first on ``sys.path``."""
    environment = clean_environment() | git_env() | (env or {})
    environment.update(PYTHONPATH=str(copy), DAGSTER_HOME=str(copy / ".local"))
    (copy / ".local").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )


def validate(copy: Path) -> subprocess.CompletedProcess[str]:
    return in_copy(copy, "data_platform.tools.cli", "validate")


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory) -> Path:
    copy = platform_copy(tmp_path_factory.mktemp("scaffold") / "platform")
    result = in_copy(
        copy, "data_platform.tools.cli", "administration", "add", "zzz", "--name", NAME
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "added zzz_project" in result.stdout
    return copy


def test_administration_add_creates_a_location_that_loads_and_validates(scaffolded):
    project = scaffolded / "dbt_submodules" / "zzz_dbt"
    assert yaml.safe_load((project / "dbt_project.yml").read_text())["name"] == "zzz"
    for name in (".cz.toml", ".sqlfluff", "profiles.yml", "README.md"):
        assert (project / name).is_file(), name
    sources = (project / "models/staging/data_platform/_data_platform__sources.yml").read_text()
    assert "published_by: data_platform" in sources and "dim_communes" in sources
    # The columns of the shared mart it reads come from data_platform's contract (sources
    # sync), its own tests kept; the package of shared macros and tests is declared.
    (table,) = yaml.safe_load(sources)["sources"][0]["tables"]
    columns = {column["name"]: column for column in table["columns"]}
    assert columns["nis_code"]["data_type"] == "varchar"
    assert columns["nis_code"]["data_tests"] == ["unique", "not_null"]
    assert columns["population_2020"]["data_type"] == "bigint"
    assert "- local: ../platform_utils" in (project / "packages.yml").read_text()
    assert (scaffolded / "open_data/zzz_exemple/communes.csv").read_text().startswith("code_nis;")
    assert (
        'location_definitions("zzz_project")'
        in (scaffolded / "zzz_project" / "definitions.py").read_text()
    )
    # Registered once, and every derived file regenerated from the copy's list.
    assert (
        f'CodeLocation("zzz", "{NAME}")' in (scaffolded / "data_platform/locations.py").read_text()
    )
    assert in_copy(scaffolded, "data_platform.tools.workspaces", "--check").returncode == 0
    compose = yaml.safe_load((scaffolded / "docker-compose.yml").read_text())
    assert "zzz_project.definitions" in compose["services"]["code-zzz-project"]["command"]
    assert "code-zzz-project" in compose["services"]["dagster-webserver"]["depends_on"]
    hooks = yaml.safe_load((scaffolded / ".pre-commit-config.yaml").read_text())["repos"][0]
    assert {"id": "sqlfluff-zzz_dbt"}.items() <= hooks["hooks"][-1].items()
    assert "zzz_project" in (scaffolded / "pyproject.toml").read_text()
    assert "zzz_project" in (scaffolded / ".gitlab/CODEOWNERS").read_text()
    # The workspace check passes and the new location loads, each in a process of its own.
    result = validate(scaffolded)
    assert result.returncode == 0, result.stderr
    assert "the workspace of 4 code locations is valid" in result.stdout
    loaded = in_copy(
        scaffolded, "dagster", "definitions", "validate", "-m", "zzz_project.definitions"
    )
    assert "Validation successful for code location zzz_project" in loaded.stdout + loaded.stderr


def test_administration_add_refuses_a_bad_or_taken_identifier(scaffolded):
    for code, message in (("Zzz-2", "cannot be an identifier"), ("zzz", "already exists")):
        result = in_copy(
            scaffolded, "data_platform.tools.cli", "administration", "add", code, "--name", "x"
        )
        assert result.returncode == 1
        assert message in result.stderr, result.stderr


@pytest.mark.slow
def test_the_scaffolded_location_materializes_its_bom_semicolon_csv_and_joins_dim_communes(
    scaffolded, platform_build, tmp_path
):
    # Its own raw file as spreadsheets export it: `;`-separated, byte-order mark, CRLF.
    raw = scaffolded / "open_data" / "zzz_exemple" / "communes.csv"
    raw.write_bytes("\ufeffcode_nis;nombre\r\n21004;12\r\n62063;7\r\n92094;3\r\n".encode())
    # The lake holds data_platform's published dim_communes, from the session's real build.
    published = Path("marts") / "data_platform" / "dim_communes.parquet"
    (tmp_path / "lake" / published.parent).mkdir(parents=True)
    shutil.copy(platform_build.lake / published, tmp_path / "lake" / published)
    env = {LAKE_ROOT_ENV: str(tmp_path / "lake"), WAREHOUSE_DIR_ENV: str(tmp_path / "warehouse")}
    result = in_copy(
        scaffolded, "dagster", "asset", "materialize", "-m", "zzz_project.definitions",
        "--select", "zzz/raw/exemple/communes,zzz/stg_exemple__communes,zzz/fct_exemple_communes",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    with duckdb.connect(str(tmp_path / "warehouse" / "zzz.duckdb"), read_only=True) as db:
        rows = db.sql("select nis_code, example_count from stg_exemple__communes order by 1")
        assert rows.fetchall() == [("21004", 12), ("62063", 7), ("92094", 3)]
    mart = tmp_path / "lake" / "marts" / "zzz" / "fct_exemple_communes.parquet"
    names = duckdb.sql(f"select commune_name_fr from '{mart}' order by nis_code").fetchall()
    assert names == [("Bruxelles",), ("Liège",), ("Namur",)]


def test_validate_refuses_each_problem_naming_both_sides(tmp_path):
    copy = platform_copy(tmp_path / "platform")
    ags, agaj = copy / "dbt_submodules" / "ags_dbt", copy / "dbt_submodules" / "agaj_dbt"
    # agaj's dbt project renamed "ags" with a model of ags's name: the name differs from its
    # registration, and the key ags/fct_walks is defined by two locations.
    project = (agaj / "dbt_project.yml").read_text().replace("name: agaj", "name: ags")
    (agaj / "dbt_project.yml").write_text(project)
    (agaj / "models" / "marts" / "fct_walks.sql").write_text("select 1 as walk_key\n")
    # agaj reads a mart of data_platform that data_platform does not define.
    sources = agaj / "models" / "staging" / "data_platform" / "_data_platform__sources.yml"
    sources.write_text(
        sources.read_text().replace("    tables:\n", "    tables:\n      - name: dim_nowhere\n", 1)
    )
    (agaj / "models" / "staging" / "data_platform" / "stg_nowhere.sql").write_text(
        "select * from {{ source('data_platform', 'dim_nowhere') }}\n"
    )
    # ... declares a column of dim_communes that data_platform's contract lacks, and reads
    # dim_arrondissements, whose contract data_platform dropped.
    sources.write_text(
        sources.read_text().replace(
            "        columns:\n", "        columns:\n          - name: not_in_contract\n", 1
        )
    )
    shared = copy / "dbt_submodules" / "data_platform_dbt"
    marts = shared / "models" / "marts" / "geography" / "_geography__models.yml"
    text = marts.read_text()
    start = text.index("  - name: dim_arrondissements")
    marts.write_text(text[:start] + text[start:].replace("      access: public\n", "", 1))
    (shared / "target" / "manifest.json").unlink()
    (agaj / "target" / "manifest.json").unlink()
    # ags asks for a hub package that is not installed, and a local one that is missing.
    (ags / "packages.yml").write_text(
        "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n  - local: ../shared\n"
    )
    result = validate(copy)
    assert result.returncode == 1
    for message in (
        "dbt_submodules/agaj_dbt/dbt_project.yml names the dbt project 'ags', but"
        " data_platform/locations.py registers it as 'agaj' (agaj_project)",
        "asset key ags/fct_walks is defined by ags_project and agaj_project",
        "agaj_project reads data_platform/dim_nowhere (a source with meta.published_by:"
        " data_platform), but no location publishes it",
        "dbt_submodules/ags_dbt/packages.yml: package dbt-labs/dbt_utils is not installed in"
        " dbt_packages/ and the platform fetches none; vendor it: copy the package into the"
        " repository and list it in packages.yml as `- local: <folder>`",
        "dbt_submodules/ags_dbt/packages.yml: local package ../shared is missing",
        "agaj_project reads data_platform's mart dim_arrondissements, which is not a public"
        " model with an enforced contract",
        "agaj_project reads data_platform's mart dim_communes: its source declares"
        " not_in_contract, which data_platform's contract lacks",
        "dbt_submodules/agaj_dbt/models/staging/data_platform/_data_platform__sources.yml"
        " differs from its publishers' contracts: run `data-platform sources sync`",
    ):
        assert message in result.stderr, result.stderr
    assert "data-platform: error: 8 problem(s) in the workspace" in result.stderr


def public_style_project(folder: Path) -> Path:
    """A dbt-duckdb project as published elsewhere, in a git repository of its own.

    Project ``shop`` (tests/test_dbt_profile.py): a seed, its own profile whose only target is
    called ``stewards``, and a vendored local package whose generic test checks a mart.
    """
    project = write_project(folder)
    vendored = project / "vendor" / "shop_utils"
    (vendored / "macros").mkdir(parents=True)
    (vendored / "dbt_project.yml").write_text("name: shop_utils\nversion: '1.0.0'\n")
    (vendored / "macros" / "is_positive.sql").write_text(
        "{% test is_positive(model, column_name) %}\n"
        "select * from {{ model }} where {{ column_name }} <= 0\n{% endtest %}\n"
    )
    (project / "packages.yml").write_text("packages:\n  - local: vendor/shop_utils\n")
    marts = project / "models" / "marts" / "_marts.yml"
    marts.write_text(
        marts.read_text().replace(
            "[unique, not_null]", "[unique, not_null, shop_utils.is_positive]"
        )
    )
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "feat: shop dbt project")
    return project


def test_dbt_add_brings_a_dbt_repository_in_as_a_submodule(tmp_path):
    # A public-style dbt project, in a bare repository of its own.
    remote = tmp_path / "shop_dbt.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(public_style_project(tmp_path)), str(remote))

    copy = platform_copy(tmp_path / "platform")
    file_protocol = {  # git refuses file:// submodules unless asked (CVE-2022-39253)
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "protocol.file.allow",
        "GIT_CONFIG_VALUE_0": "always",
    }
    command = ("data_platform.tools.cli", "dbt", "add", str(remote))
    refused = in_copy(copy, *command, "--administration", "xxx", "--name", "X", env=file_protocol)
    assert refused.returncode == 1
    assert f"{remote} holds the dbt project 'shop', not 'xxx'" in refused.stderr, refused.stderr
    assert not (copy / "dbt_submodules" / "xxx_dbt").exists()
    assert ".gitmodules" not in git(copy, "status", "--porcelain")

    added = in_copy(
        copy, *command, "--administration", "shop", "--name", "Administration générale Shop",
        env=file_protocol,
    )  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    assert git(copy, "ls-files", "--stage", "dbt_submodules/shop_dbt").startswith("160000 ")
    assert str(remote) in (copy / ".gitmodules").read_text()
    assert (copy / "shop_project" / "definitions.py").is_file()
    assert 'CodeLocation("shop",' in (copy / "data_platform/locations.py").read_text()
    listed = in_copy(copy, "data_platform.tools.cli", "dbt", "list")
    assert "shop_project" in listed.stdout and "submodule" in listed.stdout, listed.stdout

    # It loads and materializes fully, seed and vendored test included, with the platform's
    # profile (its own has no target the platform knows).
    (tmp_path / "lake").mkdir()
    env = {LAKE_ROOT_ENV: str(tmp_path / "lake"), WAREHOUSE_DIR_ENV: str(tmp_path / "warehouse")}
    result = in_copy(
        copy, "dagster", "asset", "materialize", "-m", "shop_project.definitions",
        "--select", "*", env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    assert "is_positive" in result.stderr
    with duckdb.connect(str(tmp_path / "warehouse" / "shop.duckdb"), read_only=True) as db:
        rows = db.sql("select city_id, city_name from fct_cities order by 1").fetchall()
    assert rows == [(key, city.upper()) for key, city in SEED_ROWS]


def test_the_template_never_overwrites_an_existing_file(tmp_path):
    """A file the template would write (``definitions.py`` from ``definitions.py.tmpl``) that
    exists already stops the whole rendering before anything is written."""
    from data_platform.tools.cli import CliError

    package = tmp_path / "zz_project"
    package.mkdir()
    (package / "definitions.py").write_text("# the steward's own\n")
    with pytest.raises(CliError, match="zz_project/definitions.py already exists"):
        render_template(tmp_path, "zz", "Zz")
    assert (package / "definitions.py").read_text() == "# the steward's own\n"
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["definitions.py", "zz_project"]
