{{ config(meta={'dagster': {'ref': {'name': 'fct_basketball_matches'}}}) }}

-- SOURCE.md: 17,725 rows, 9,462 distinct match codes in the 69 club files. Computed from the raw
-- files and compared with fct_basketball_matches (same codes, one row each).
with

raw_rows as (

    select * from {{ source('awbb', 'club_matches') }}

),

raw_counts as (

    select
        count(*) as raw_rows,
        count(distinct code) as raw_match_codes,
        count(distinct filename) as raw_files
    from raw_rows

),

mart_counts as (

    select
        count(*) as mart_matches,
        count(distinct match_code) as mart_match_codes
    from {{ ref('fct_basketball_matches') }}

),

missing_codes as (

    select count(*) as raw_codes_missing_in_mart
    from (
        select distinct code from raw_rows
        except
        select match_code from {{ ref('fct_basketball_matches') }}
    )

)

select
    raw_counts.raw_rows,
    raw_counts.raw_files,
    raw_counts.raw_match_codes,
    mart_counts.mart_matches,
    mart_counts.mart_match_codes,
    missing_codes.raw_codes_missing_in_mart
from raw_counts
cross join mart_counts
cross join missing_codes
where
    raw_counts.raw_rows <> 17725
    or raw_counts.raw_files <> 69
    or raw_counts.raw_match_codes <> 9462
    or mart_counts.mart_matches <> 9462
    or mart_counts.mart_match_codes <> 9462
    or missing_codes.raw_codes_missing_in_mart <> 0
