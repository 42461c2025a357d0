{{ config(meta={'dagster': {'ref': {'name': 'int_population_areas_classified'}}}) }}

-- The commune rows (589 communes of before 2019) must add up to the country row 01000 for each year,
-- sex and age band: the file mixes levels, and no commune may be missing or counted twice.
with

population as (

    select * from {{ ref('stg_statbel__population_age_bands') }}

),

areas as (

    select * from {{ ref('int_population_areas_classified') }}

),

communes as (

    select
        population.year,
        population.sex,
        population.age_min,
        sum(population.population) as commune_population
    from population
    inner join areas
        on population.area_nis_code = areas.area_nis_code
    where areas.area_level = 'commune'
    group by population.year, population.sex, population.age_min

),

country as (

    select
        year,
        sex,
        age_min,
        population as country_population
    from population
    where area_nis_code = '01000'

),

final as (

    select
        country.year,
        country.sex,
        country.age_min,
        country.country_population,
        communes.commune_population
    from country
    full outer join communes
        on
            country.year = communes.year
            and country.sex = communes.sex
            and country.age_min = communes.age_min
    where communes.commune_population is distinct from country.country_population

)

select * from final
