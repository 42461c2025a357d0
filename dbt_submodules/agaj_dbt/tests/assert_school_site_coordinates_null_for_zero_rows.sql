{{ config(meta={'dagster': {'ref': {'name': 'stg_fwb_school_population__school_sites'}}}) }}

-- ecoles_fr.csv writes a missing position as "0" for both coordinates (192 lines, 187 distinct lines).
-- Staging must have exactly as many NULL latitudes and NULL longitudes as distinct "0" lines, always
-- together. The other coordinates are degrees x 10^7 written with 9 digits (latitude) and 8 digits
-- (longitude): no line may have another digit count, else dividing by 10^7 would be wrong.
with

source as (

    select * from {{ source('fwb_school_population', 'ecoles_fr') }}

),

school_sites as (

    select * from {{ ref('stg_fwb_school_population__school_sites') }}

),

distinct_lines as (

    select distinct
        name,
        address,
        postcode,
        lat,
        lon,
        type
    from source

),

classified_lines as (

    select
        trim(lat) = '0' or trim(lon) = '0' as is_zero,
        regexp_full_match(trim(lat), '[0-9]{9}') and regexp_full_match(trim(lon), '[0-9]{8}') as has_expected_digits
    from distinct_lines

),

raw_counts as (

    select
        count(*) filter (where is_zero) as zero_rows,
        count(*) filter (where not is_zero and not has_expected_digits) as unexpected_digit_rows
    from classified_lines

),

staging_counts as (

    select
        count(*) filter (where latitude is null) as null_latitudes,
        count(*) filter (where longitude is null) as null_longitudes,
        count(*) filter (where (latitude is null) != (longitude is null)) as half_null_rows
    from school_sites

),

final as (

    select
        raw_counts.zero_rows,
        raw_counts.unexpected_digit_rows,
        staging_counts.null_latitudes,
        staging_counts.null_longitudes,
        staging_counts.half_null_rows
    from raw_counts
    cross join staging_counts
    where
        staging_counts.null_latitudes != raw_counts.zero_rows
        or staging_counts.null_longitudes != raw_counts.zero_rows
        or staging_counts.half_null_rows != 0
        or raw_counts.unexpected_digit_rows != 0
        or raw_counts.zero_rows != 187

)

select * from final
