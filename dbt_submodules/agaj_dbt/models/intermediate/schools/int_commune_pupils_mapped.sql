-- One row per today's commune (2025) with pupils in the 2013-14 files: the region total row that the
-- files mix with the commune rows (03000) is left out, the communes of before 2019 are mapped to
-- today's commune through map_nis_codes and summed (2025: Bastogne + Bertogne -> 82039).
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

pupils as (

    select
        nis_code,
        pupils as preschool_pupils,
        0 as primary_pupils
    from preschool
    union all
    select
        nis_code,
        0 as preschool_pupils,
        pupils as primary_pupils
    from primary_school

),

-- the inner join keeps the commune rows only: the region total 03000 is no commune code
mapped as (

    select
        map_nis_codes.current_nis_code as nis_code,
        pupils.nis_code as source_nis_code,
        pupils.preschool_pupils,
        pupils.primary_pupils,
        map_nis_codes.has_partial_transfer
    from pupils
    inner join map_nis_codes
        on pupils.nis_code = map_nis_codes.nis_code

),

final as (

    select
        nis_code,
        cast(sum(preschool_pupils) as integer) as preschool_pupils,
        cast(sum(primary_pupils) as integer) as primary_pupils,
        cast(sum(preschool_pupils + primary_pupils) as integer) as total_pupils,
        cast(count(distinct source_nis_code) as integer) as source_commune_count,
        bool_or(has_partial_transfer) as has_partial_transfer
    from mapped
    group by nis_code

)

select * from final
