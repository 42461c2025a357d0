{{ config(meta={'dagster': {'ref': {'name': 'int_commune_pupils_mapped'}}}) }}
-- depends_on: {{ ref('int_commune_pupils_mapped') }} (the model checked: dagster-dbt attaches
-- a singular test to a model it depends on)

-- Each file mixes one region total row with the commune rows. Every row must be either that total
-- (Wallonia, written "3000" without its leading zero and padded to 03000 in staging; exactly one per
-- file) or a commune code of map_nis_codes (262 Walloon communes of before 2019 per file).
with

preschool as (

    select * from {{ ref('stg_fwb_school_population__preschool_pupils') }}

),

primary_school as (

    select * from {{ ref('stg_fwb_school_population__primary_pupils') }}

),

map_nis_codes as (

    select * from {{ source('data_platform', 'map_nis_codes') }}

),

pupil_rows as (

    select
        'preschool' as school_level,
        nis_code
    from preschool
    union all
    select
        'primary' as school_level,
        nis_code
    from primary_school

),

classified as (

    select
        pupil_rows.school_level,
        pupil_rows.nis_code,
        case
            when pupil_rows.nis_code = '03000' then 'region_total'
            when map_nis_codes.nis_code is not null then 'commune'
            else 'unknown'
        end as row_kind
    from pupil_rows
    left join map_nis_codes
        on pupil_rows.nis_code = map_nis_codes.nis_code

),

counts as (

    select
        school_level,
        count(*) filter (where row_kind = 'region_total') as total_rows,
        count(*) filter (where row_kind = 'commune') as commune_rows,
        count(*) filter (where row_kind = 'unknown') as unknown_rows
    from classified
    group by school_level

),

final as (

    select *
    from counts
    where
        total_rows != 1
        or commune_rows != 262
        or unknown_rows != 0

)

select * from final
