-- One row per commune and snapshot for every commune of the FWB's territory (and any other
-- commune that hosted a walk), zero walks included. Cancelled walks ('Annulé') are counted apart.
with

walks as (

    select * from {{ ref('int_walks_located') }}

),

communes as (

    select * from {{ source('data_platform', 'dim_communes') }}

),

snapshots as (

    select distinct snapshot from walks

),

walk_counts as (

    select
        nis_code,
        snapshot,
        count(*) filter (where not is_cancelled) as walks,
        count(*) filter (where is_cancelled) as cancelled_walks
    from walks
    group by nis_code, snapshot

),

scope_communes as (

    select * from communes
    where
        is_fwb_territory
        or nis_code in (select walks.nis_code from walks)

),

commune_snapshots as (

    select
        scope_communes.nis_code,
        scope_communes.name_fr as commune_name_fr,
        scope_communes.province_nis_code,
        scope_communes.region_nis_code,
        scope_communes.is_fwb_territory,
        scope_communes.population_2020,
        snapshots.snapshot
    from scope_communes
    cross join snapshots

),

final as (

    select
        commune_snapshots.nis_code || '-' || commune_snapshots.snapshot as commune_snapshot_key,
        commune_snapshots.nis_code,
        commune_snapshots.commune_name_fr,
        commune_snapshots.province_nis_code,
        commune_snapshots.region_nis_code,
        commune_snapshots.is_fwb_territory,
        commune_snapshots.snapshot,
        coalesce(walk_counts.walks, 0) as walks,
        coalesce(walk_counts.cancelled_walks, 0) as cancelled_walks,
        commune_snapshots.population_2020,
        coalesce(walk_counts.walks, 0) * 10000.0
        / nullif(commune_snapshots.population_2020, 0) as walks_per_10k_inhabitants
    from commune_snapshots
    left join walk_counts
        on
            commune_snapshots.nis_code = walk_counts.nis_code
            and commune_snapshots.snapshot = walk_counts.snapshot

)

select * from final
