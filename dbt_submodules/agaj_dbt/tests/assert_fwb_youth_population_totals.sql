{{ config(meta={'dagster': {'ref': {'name': 'fct_youth_population_communes'}}}) }}

-- Youth (0-19) and total population of the FWB territory, computed from the raw file alone: regions
-- 03000 (Wallonia) + 04000 (Brussels) minus the 9 German-speaking communes (63001, 63012, 63013, 63023,
-- 63040, 63048, 63061, 63067, 63087, codes unchanged since 1977).
-- 2001: 1,035,146 young people out of 4,239,826; 2013: 1,110,994 out of 4,641,605.
-- 271 communes of today each year, 21 arrondissements; the arrondissements add up to the communes.
with

youth_communes as (

    select * from {{ ref('fct_youth_population_communes') }}

),

youth_arrondissements as (

    select * from {{ ref('fct_youth_population_arrondissements') }}

),

youth_evolution as (

    select * from {{ ref('fct_youth_population_evolution') }}

),

expected as (

    select expected_totals.*
    from (
        values
        (2001, 1035146, 4239826, 271, 21),
        (2013, 1110994, 4641605, 271, 21)
    ) as expected_totals (year, youth_population, total_population, commune_count, arrondissement_count)

),

communes_by_year as (

    select
        year,
        sum(youth_population) as youth_population,
        sum(total_population) as total_population,
        count(*) as commune_count
    from youth_communes
    group by year

),

arrondissements_by_year as (

    select
        year,
        sum(youth_population) as youth_population,
        sum(total_population) as total_population,
        sum(commune_count) as commune_count,
        count(*) as arrondissement_count
    from youth_arrondissements
    group by year

),

evolution as (

    select
        sum(youth_2001) as youth_2001,
        sum(youth_2013) as youth_2013,
        count(*) as commune_count
    from youth_evolution

),

final as (

    select
        expected.year,
        communes_by_year.youth_population as communes_youth,
        arrondissements_by_year.youth_population as arrondissements_youth
    from expected
    left join communes_by_year
        on expected.year = communes_by_year.year
    left join arrondissements_by_year
        on expected.year = arrondissements_by_year.year
    cross join evolution
    where
        communes_by_year.youth_population is distinct from expected.youth_population
        or communes_by_year.total_population is distinct from expected.total_population
        or communes_by_year.commune_count is distinct from expected.commune_count
        or arrondissements_by_year.youth_population is distinct from expected.youth_population
        or arrondissements_by_year.total_population is distinct from expected.total_population
        or arrondissements_by_year.commune_count is distinct from expected.commune_count
        or arrondissements_by_year.arrondissement_count is distinct from expected.arrondissement_count
        or evolution.commune_count is distinct from expected.commune_count
        or (expected.year = 2001 and evolution.youth_2001 is distinct from expected.youth_population)
        or (expected.year = 2013 and evolution.youth_2013 is distinct from expected.youth_population)

)

select * from final
