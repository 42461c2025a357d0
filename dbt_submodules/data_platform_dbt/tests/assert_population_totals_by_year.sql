{{ config(meta={'dagster': {'ref': {'name': 'fct_commune_population'}}}) }}

-- The national totals of the three yearly lists (computed from the raw files) must survive
-- parsing and modelling, and the 2020 total must survive the re-basing on 2025 communes.
with

expected as (

    select
        v.model_name,
        v.year,
        v.total
    from (
        values
        ('fct_commune_population', 2018, 11376070::bigint),
        ('fct_commune_population', 2019, 11431406::bigint),
        ('fct_commune_population', 2020, 11492641::bigint),
        ('dim_communes.population_2020', 2020, 11492641::bigint),
        ('dim_arrondissements.population_2020', 2020, 11492641::bigint)
    ) as v (model_name, year, total)

),

actual as (

    select
        'fct_commune_population' as model_name,
        year,
        sum(inhabitants)::bigint as total
    from {{ ref('fct_commune_population') }}
    group by year

    union all

    select
        'dim_communes.population_2020' as model_name,
        2020 as year,
        sum(population_2020)::bigint as total
    from {{ ref('dim_communes') }}

    union all

    select
        'dim_arrondissements.population_2020' as model_name,
        2020 as year,
        sum(population_2020)::bigint as total
    from {{ ref('dim_arrondissements') }}

)

select
    coalesce(expected.model_name, actual.model_name) as model_name,
    coalesce(expected.year, actual.year) as year,
    expected.total as expected_total,
    actual.total as actual_total
from expected
full outer join actual
    on
        expected.model_name = actual.model_name
        and expected.year = actual.year
where expected.total is distinct from actual.total
