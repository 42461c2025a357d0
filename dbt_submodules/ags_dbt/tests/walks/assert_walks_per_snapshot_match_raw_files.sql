{{ config(meta={'dagster': {'ref': {'name': 'fct_walks'}}}) }}

-- Distinct walks (date, ndeg_pv) per snapshot computed from the raw JSON files must equal the
-- records documented in SOURCE.md (480 / 714: no duplicate) and the rows of fct_walks.
-- Returns the snapshots where any of these figures disagree.
with

raw_2022 as (

    select unnest(records) as api_record
    from {{ source('adeps', 'walks_2022') }}

),

raw_2024 as (

    select unnest(records) as api_record
    from {{ source('adeps', 'walks_2024') }}

),

raw_fields as (

    select
        '2022-06' as snapshot_name,
        struct_extract(struct_extract(api_record, 'fields'), 'ndeg_pv') as ndeg_pv,
        struct_extract(struct_extract(api_record, 'fields'), 'date') as walk_date
    from raw_2022
    union all
    select
        '2024-11' as snapshot_name,
        struct_extract(struct_extract(api_record, 'fields'), 'ndeg_pv') as ndeg_pv,
        struct_extract(struct_extract(api_record, 'fields'), 'date') as walk_date
    from raw_2024

),

raw_counts as (

    select
        snapshot_name,
        count(*) as raw_records,
        count(distinct walk_date::varchar || ndeg_pv) as raw_distinct_walks
    from raw_fields
    group by snapshot_name

),

documented as (

    select
        col0 as snapshot_name,
        col1 as documented_records
    from (values ('2022-06', 480), ('2024-11', 714))

),

mart_counts as (

    select
        snapshot,
        count(*) as mart_walks
    from {{ ref('fct_walks') }}
    group by snapshot

),

final as (

    select
        documented.snapshot_name,
        documented.documented_records,
        raw_counts.raw_records,
        raw_counts.raw_distinct_walks,
        mart_counts.mart_walks
    from documented
    full outer join raw_counts on documented.snapshot_name = raw_counts.snapshot_name
    full outer join mart_counts on documented.snapshot_name = mart_counts.snapshot

)

select * from final
where
    raw_records is distinct from documented_records
    or raw_distinct_walks is distinct from documented_records
    or mart_walks is distinct from documented_records
