{{ config(meta={'dagster': {'ref': {'name': 'fct_pupils_communes_2013'}}}) }}

-- The commune rows of each file add up exactly to its region total row (03000): 143,330 pre-school and
-- 257,514 primary pupils in 2013-14, 400,844 in all. The mart (261 communes of today) keeps every pupil.
with

preschool as (

    select * from {{ ref('stg_fwb_school_population__preschool_pupils') }}

),

primary_school as (

    select * from {{ ref('stg_fwb_school_population__primary_pupils') }}

),

pupils_mart as (

    select * from {{ ref('fct_pupils_communes_2013') }}

),

file_totals as (

    select
        'preschool' as school_level,
        sum(pupils) filter (where nis_code = '03000') as region_total,
        sum(pupils) filter (where nis_code != '03000') as commune_sum
    from preschool
    union all
    select
        'primary' as school_level,
        sum(pupils) filter (where nis_code = '03000') as region_total,
        sum(pupils) filter (where nis_code != '03000') as commune_sum
    from primary_school

),

mart_totals as (

    select
        sum(preschool_pupils) as preschool_pupils,
        sum(primary_pupils) as primary_pupils,
        sum(total_pupils) as total_pupils,
        count(*) as commune_count
    from pupils_mart

),

expected as (

    select expected_totals.*
    from (
        values
        ('preschool', 143330),
        ('primary', 257514)
    ) as expected_totals (school_level, pupils)

),

final as (

    select
        expected.school_level,
        expected.pupils as expected_pupils,
        file_totals.region_total,
        file_totals.commune_sum,
        mart_totals.preschool_pupils,
        mart_totals.primary_pupils,
        mart_totals.total_pupils,
        mart_totals.commune_count
    from expected
    left join file_totals
        on expected.school_level = file_totals.school_level
    cross join mart_totals
    where
        file_totals.region_total is distinct from expected.pupils
        or file_totals.commune_sum is distinct from expected.pupils
        or (expected.school_level = 'preschool' and mart_totals.preschool_pupils is distinct from expected.pupils)
        or (expected.school_level = 'primary' and mart_totals.primary_pupils is distinct from expected.pupils)
        or mart_totals.total_pupils != 400844
        or mart_totals.commune_count != 261

)

select * from final
