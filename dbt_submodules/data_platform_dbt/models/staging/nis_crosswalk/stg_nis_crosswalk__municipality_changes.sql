with

source as (

    select * from {{ source('nis_crosswalk', 'municipality_crosswalk') }}

),

final as (

    select
        old_nis as old_nis_code,
        old_name_fr,
        old_name_nl,
        new_nis as new_nis_code,
        relationship as change_type,
        has_partial_transfer::boolean as has_partial_transfer,
        valid_from::date as valid_from,
        -- the last day of validity of the old code is the date of the change
        valid_to::date as changed_on,
        evidence,
        verified::boolean as is_verified,
        nullif(verified_source, '') as verified_source,
        nullif(note, '') as note
    from source

)

select * from final
