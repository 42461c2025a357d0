{{ config(meta={'dagster': {'ref': {'name': 'stg_fwb_school_population__school_sites'}}}) }}

-- ecoles_fr.csv has 6,805 lines of which 188 repeat another line exactly: staging keeps one row per
-- distinct line, so its row count equals raw rows minus duplicate rows, both computed here from the
-- source (6,805 - 188 = 6,617), and no two staging rows share the same fields.
with

source as (

    select * from {{ source('fwb_school_population', 'ecoles_fr') }}

),

school_sites as (

    select * from {{ ref('stg_fwb_school_population__school_sites') }}

),

line_copies as (

    select count(*) as copies
    from source
    group by name, address, postcode, lat, lon, type

),

raw_counts as (

    select
        sum(copies) as raw_rows,
        sum(copies - 1) as duplicate_rows
    from line_copies

),

distinct_staging_rows as (

    select distinct
        school_name,
        address,
        postcode,
        latitude,
        longitude,
        school_level
    from school_sites

),

staging_counts as (

    select
        (select count(*) from school_sites) as staging_rows,
        count(*) as distinct_rows
    from distinct_staging_rows

),

final as (

    select
        raw_counts.raw_rows,
        raw_counts.duplicate_rows,
        staging_counts.staging_rows,
        staging_counts.distinct_rows
    from raw_counts
    cross join staging_counts
    where
        staging_counts.staging_rows != raw_counts.raw_rows - raw_counts.duplicate_rows
        or staging_counts.distinct_rows != staging_counts.staging_rows
        or raw_counts.raw_rows != 6805
        or raw_counts.duplicate_rows != 188
        or staging_counts.staging_rows != 6617

)

select * from final
