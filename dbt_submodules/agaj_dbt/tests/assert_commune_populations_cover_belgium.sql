{{ config(meta={'dagster': {'ref': {'name': 'int_commune_populations_aggregated'}}}) }}

-- Mapping the 589 old communes to the 565 communes of 2025 loses and duplicates nothing: every commune
-- of dim_communes has a row for 2001 and 2013, and the communes of each year add up to the country row.
with

commune_populations as (

    select * from {{ ref('int_commune_populations_aggregated') }}

),

population as (

    select * from {{ ref('stg_statbel__population_age_bands') }}

),

communes as (

    select * from {{ source('data_platform', 'dim_communes') }}

),

years as (

    select distinct year
    from population

),

missing_communes as (

    select
        'missing ' || communes.nis_code || '-' || years.year as check_name,
        null::bigint as expected_value,
        null::bigint as actual_value
    from communes
    cross join years
    left join commune_populations
        on
            communes.nis_code = commune_populations.nis_code
            and years.year = commune_populations.year
    where commune_populations.nis_code is null

),

country as (

    select
        year,
        sum(population) as country_population
    from population
    where area_nis_code = '01000'
    group by year

),

mapped as (

    select
        year,
        sum(total_population) as mapped_population
    from commune_populations
    group by year

),

total_gaps as (

    select
        'total ' || country.year as check_name,
        country.country_population as expected_value,
        mapped.mapped_population as actual_value
    from country
    left join mapped
        on country.year = mapped.year
    where mapped.mapped_population is distinct from country.country_population

),

final as (

    select * from missing_communes
    union all
    select * from total_gaps

)

select * from final
