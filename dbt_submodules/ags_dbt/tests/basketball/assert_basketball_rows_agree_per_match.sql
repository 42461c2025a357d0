-- Once cleaned (time cast, handicap stripped), all in-season unshifted rows of a match code
-- agree on date, time, teams and category, so deduplicating on Code loses nothing.
-- Catches '9:00' vs '09:00', '(+ 10)' vs a cut '(' and any real conflict between two files.
with

versions as (

    select distinct
        match_code,
        match_date,
        match_time,
        home_team,
        away_team,
        category
    from {{ ref('int_basketball_match_rows_cleaned') }}
    where is_in_season and not is_category_shifted

)

select
    match_code,
    count(*) as versions
from versions
group by match_code
having count(*) <> 1
