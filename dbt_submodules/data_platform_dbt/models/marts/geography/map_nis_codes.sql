with

nis_codes as (

    select * from {{ ref('int_nis_codes_resolved') }}

),

final as (

    select
        nis_code,
        current_nis_code,
        mapping_type,
        has_partial_transfer,
        changed_on,
        change_count,
        name_fr,
        current_name_fr
    from nis_codes

)

select * from final
