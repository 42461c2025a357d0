{{ config(meta={'dagster': {'ref': {'name': 'fct_commune_population'}}}) }}

-- "Saint-Nicolas" is the French name of two communes in the yearly lists (46021 Sint-Niklaas
-- and 62093 Saint-Nicolas). The models join on NIS codes only: each year keeps exactly the
-- rows of its file, and the duplicate name stays two distinct communes.
with

staged as (

    select
        year,
        count(*) as staged_rows,
        count(*) filter (where name_fr = 'Saint-Nicolas') as saint_nicolas_rows,
        count(distinct nis_code) filter (where name_fr = 'Saint-Nicolas') as saint_nicolas_codes
    from {{ ref('stg_belgian_municipalities__communes') }}
    group by year

),

published as (

    select
        year,
        count(*) as published_rows
    from {{ ref('fct_commune_population') }}
    group by year

),

expected as (

    select
        v.year,
        v.file_rows
    from (values (2018, 589), (2019, 581), (2020, 581)) as v (year, file_rows)

)

select
    expected.year,
    expected.file_rows,
    staged.staged_rows,
    published.published_rows,
    staged.saint_nicolas_rows,
    staged.saint_nicolas_codes
from expected
left join staged
    on expected.year = staged.year
left join published
    on expected.year = published.year
where
    staged.staged_rows is distinct from expected.file_rows
    or published.published_rows is distinct from expected.file_rows
    or staged.saint_nicolas_rows <> 2
    or staged.saint_nicolas_codes <> 2
