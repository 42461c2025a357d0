-- One row per distinct line of ecoles_fr.csv: a school site (implantation) of the FWB and one level it
-- teaches (2014). Defects of the file handled here:
-- * 188 lines are exact duplicates of another line: only one copy of each line is kept (6,617 rows);
-- * the coordinates are degrees x 10^7 written as integers without a decimal point (latitude on
--   9 digits, 503529965 = 50.3529965; longitude on 8 digits, 42673790 = 4.2673790): divided by 10^7;
-- * 192 lines (187 once deduplicated) have no position, written "0" for both coordinates: NULL;
-- * every address ends with a space: names, addresses and levels are trimmed.
-- The key hashes the six raw fields: two rows of a site and level may differ by their coordinates only
-- (Beauraing I and II, Rue de Wellin 61, primary: once "0", once located).
with

source as (

    select * from {{ source('fwb_school_population', 'ecoles_fr') }}

),

deduplicated as (

    select distinct
        name,
        address,
        postcode,
        lat,
        lon,
        type
    from source

),

final as (

    select
        md5(concat_ws('|', name, address, postcode, lat, lon, type)) as school_site_key,
        trim(name) as school_name,
        trim(address) as address,
        cast(trim(postcode) as varchar(4)) as postcode,
        case
            when trim(lat) = '0' or trim(lon) = '0' then null
            else cast(trim(lat) as double) / 1e7
        end as latitude,
        case
            when trim(lat) = '0' or trim(lon) = '0' then null
            else cast(trim(lon) as double) / 1e7
        end as longitude,
        trim(type) as school_level
    from deduplicated

)

select * from final
