{{ config(meta={'dagster': {'ref': {'name': 'int_population_areas_classified'}}}) }}

-- The 646 area codes of the Statbel file, classified with the shared reference tables: 1 country,
-- 3 regions, 10 provinces (incl. the Brabant provinces 20001 and 20002), 42 arrondissements of today,
-- 589 communes of before 2019, and 54000 alone unclassified (arrondissement of Mouscron, abolished
-- on 2019-01-01). The commune codes must be present in both years: 589 per year.
with

areas as (

    select * from {{ ref('int_population_areas_classified') }}

),

population as (

    select * from {{ ref('stg_statbel__population_age_bands') }}

),

expected as (

    select expected_levels.*
    from (
        values
        ('country', 1),
        ('region', 3),
        ('province', 10),
        ('arrondissement', 42),
        ('commune', 589),
        ('unclassified', 1)
    ) as expected_levels (area_level, area_count)

),

actual as (

    select
        area_level,
        count(*) as area_count
    from areas
    group by area_level

),

level_gaps as (

    select
        coalesce(expected.area_level, actual.area_level) as check_name,
        expected.area_count as expected_value,
        actual.area_count as actual_value
    from expected
    full outer join actual
        on expected.area_level = actual.area_level
    where actual.area_count is distinct from expected.area_count

),

unclassified_gaps as (

    select
        'unclassified ' || area_nis_code as check_name,
        null as expected_value,
        null as actual_value
    from areas
    where
        area_level = 'unclassified'
        and area_nis_code != '54000'

),

communes_per_year as (

    select
        population.year,
        count(distinct population.area_nis_code) as commune_count
    from population
    inner join areas
        on population.area_nis_code = areas.area_nis_code
    where areas.area_level = 'commune'
    group by population.year

),

year_gaps as (

    select
        'communes in ' || year as check_name,
        589 as expected_value,
        commune_count as actual_value
    from communes_per_year
    where commune_count != 589
    union all
    select
        'years with communes' as check_name,
        2 as expected_value,
        count(*) as actual_value
    from communes_per_year
    having count(*) != 2

),

final as (

    select * from level_gaps
    union all
    select * from unclassified_gaps
    union all
    select * from year_gaps

)

select * from final
