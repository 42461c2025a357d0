{{ config(meta={'dagster': {'ref': {'name': 'fct_youth_population_communes'}}}) }}

-- In each youth mart, the 0-19 population is the sum of its four 5-year bands and never exceeds the
-- total population.
with

youth_communes as (

    select * from {{ ref('fct_youth_population_communes') }}

),

youth_arrondissements as (

    select * from {{ ref('fct_youth_population_arrondissements') }}

),

rows_to_check as (

    select
        commune_year_key as row_key,
        youth_population,
        population_0_4 + population_5_9 + population_10_14 + population_15_19 as band_sum,
        total_population
    from youth_communes
    union all
    select
        arrondissement_year_key as row_key,
        youth_population,
        population_0_4 + population_5_9 + population_10_14 + population_15_19 as band_sum,
        total_population
    from youth_arrondissements

),

final as (

    select *
    from rows_to_check
    where
        youth_population != band_sum
        or youth_population > total_population

)

select * from final
