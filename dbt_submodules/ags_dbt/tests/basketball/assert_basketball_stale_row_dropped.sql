{{ config(meta={'dagster': {'ref': {'name': 'fct_basketball_matches'}}}) }}

-- Code 405333 is reused in BC Olne's file by a row of 2026-04-18 (previous season, BC OLNE -
-- ROYAL BC NINANE C): exactly one row of the club files lies outside the 2026-27 season and the
-- mart keeps the in-season match (BC COINTE B - RBC BLEGNY B, 2027-04-17).
with

stale as (

    select count(*) as stale_rows
    from {{ ref('int_basketball_match_rows_cleaned') }}
    where not is_in_season

),

kept as (

    select count(*) as kept_rows
    from {{ ref('fct_basketball_matches') }}
    where
        match_code = '405333'
        and match_date = date '2027-04-17'
        and home_team = 'BC COINTE B'
        and away_team = 'RBC BLEGNY B'

)

select
    stale.stale_rows,
    kept.kept_rows
from stale
cross join kept
where stale.stale_rows <> 1 or kept.kept_rows <> 1
