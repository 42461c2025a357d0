-- One row per today's commune (2025) and year: the Statbel rows of the communes of before 2019 are
-- mapped to today's commune through map_nis_codes and summed (mergers of 2019 and 2025: several old
-- communes -> one). A commune that lost part of its territory (has_partial_transfer) is kept whole and
-- flagged. Youth = ages 0-19 (bands 0-4 to 15-19): the décret du 18 janvier 2018 (Code de la
-- prévention, de l'aide à la jeunesse et de la protection de la jeunesse) covers young people under 18
-- and up to 20 when help was asked before 18; Statbel's 5-year bands cannot split at 18, so the whole
-- 0-19 range is counted.
with

population as (

    select * from {{ ref('stg_statbel__population_age_bands') }}

),

areas as (

    select * from {{ ref('int_population_areas_classified') }}

),

commune_population as (

    select
        areas.current_nis_code as nis_code,
        population.area_nis_code as source_nis_code,
        population.year,
        population.age_min,
        population.population,
        areas.has_partial_transfer
    from population
    inner join areas
        on population.area_nis_code = areas.area_nis_code
    where areas.area_level = 'commune'

),

aggregated as (

    select
        nis_code,
        year,
        sum(population) filter (where age_min = 0) as population_0_4,
        sum(population) filter (where age_min = 5) as population_5_9,
        sum(population) filter (where age_min = 10) as population_10_14,
        sum(population) filter (where age_min = 15) as population_15_19,
        sum(population) filter (where age_min < 20) as youth_population,
        sum(population) as total_population,
        count(distinct source_nis_code) as source_commune_count,
        bool_or(has_partial_transfer) as has_partial_transfer
    from commune_population
    group by nis_code, year

),

final as (

    select
        nis_code || '-' || year as commune_year_key,
        nis_code,
        year,
        cast(youth_population as integer) as youth_population,
        cast(population_0_4 as integer) as population_0_4,
        cast(population_5_9 as integer) as population_5_9,
        cast(population_10_14 as integer) as population_10_14,
        cast(population_15_19 as integer) as population_15_19,
        cast(total_population as integer) as total_population,
        cast(source_commune_count as integer) as source_commune_count,
        has_partial_transfer
    from aggregated

)

select * from final
