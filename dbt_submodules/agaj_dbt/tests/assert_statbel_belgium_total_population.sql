-- Belgium's population on 1 January from the country rows (01000) of the raw file:
-- 10,263,414 in 2001 (5,245,395 F + 5,018,019 M) and 11,099,554 in 2013 (5,652,066 F + 5,447,488 M).
with

population as (

    select * from {{ ref('stg_statbel__population_age_bands') }}

),

expected as (

    select expected_totals.*
    from (
        values
        (2001, 10263414),
        (2013, 11099554)
    ) as expected_totals (year, total_population)

),

actual as (

    select
        year,
        sum(population) as total_population
    from population
    where area_nis_code = '01000'
    group by year

),

final as (

    select
        expected.year,
        expected.total_population as expected_total,
        actual.total_population as actual_total
    from expected
    full outer join actual
        on expected.year = actual.year
    where actual.total_population is distinct from expected.total_population

)

select * from final
