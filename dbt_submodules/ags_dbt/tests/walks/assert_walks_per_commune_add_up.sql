{{ config(meta={'dagster': {'ref': {'name': 'fct_walks_per_commune'}}}) }}

-- Every walk is counted once in fct_walks_per_commune: per snapshot, walks + cancelled_walks equal
-- the rows of fct_walks, and cancelled_walks the walks with status 'Annulé'.
with

per_commune as (

    select
        snapshot,
        sum(walks) as walks,
        sum(cancelled_walks) as cancelled_walks
    from {{ ref('fct_walks_per_commune') }}
    group by snapshot

),

walks as (

    select
        snapshot,
        count(*) filter (where status <> 'Annulé') as walks,
        count(*) filter (where status = 'Annulé') as cancelled_walks
    from {{ ref('fct_walks') }}
    group by snapshot

)

select
    walks.snapshot,
    walks.walks,
    per_commune.walks as walks_per_commune,
    walks.cancelled_walks,
    per_commune.cancelled_walks as cancelled_walks_per_commune
from walks
left join per_commune on walks.snapshot = per_commune.snapshot
where
    per_commune.walks is distinct from walks.walks
    or per_commune.cancelled_walks is distinct from walks.cancelled_walks
