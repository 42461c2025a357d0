{{ config(meta={'dagster': {'ref': {'name': 'dim_walk_organisers'}}}) }}

-- SOURCE.md: 390 ndeg_pv codes are in both files. Computed from the raw files and from
-- dim_walk_organisers (present_in_both); returns a row if either differs from 390.
with

records_2022 as (

    select unnest(records) as api_record
    from {{ source('adeps', 'walks_2022') }}

),

records_2024 as (

    select unnest(records) as api_record
    from {{ source('adeps', 'walks_2024') }}

),

raw_2022 as (

    select distinct struct_extract(struct_extract(api_record, 'fields'), 'ndeg_pv') as ndeg_pv
    from records_2022

),

raw_2024 as (

    select distinct struct_extract(struct_extract(api_record, 'fields'), 'ndeg_pv') as ndeg_pv
    from records_2024

),

raw_both as (

    select count(*) as raw_codes_in_both
    from raw_2022
    inner join raw_2024 on raw_2022.ndeg_pv = raw_2024.ndeg_pv

),

mart_both as (

    select count(*) filter (where present_in_both) as mart_codes_in_both
    from {{ ref('dim_walk_organisers') }}

)

select
    raw_both.raw_codes_in_both,
    mart_both.mart_codes_in_both
from raw_both
cross join mart_both
where raw_both.raw_codes_in_both <> 390 or mart_both.mart_codes_in_both <> 390
