{{ config(meta={'dagster': {'ref': {'name': 'map_nis_codes'}}}) }}

-- map_nis_codes: every code of the 2018, 2019 and 2020 lists and of the crosswalk maps to one
-- 2025 commune; no current code is itself a code that changed later (chains resolved
-- transitively); the known cases resolve as expected.
with

map as (

    select * from {{ ref('map_nis_codes') }}

),

yearly_codes as (

    select distinct nis_code from {{ ref('stg_belgian_municipalities__communes') }}

),

crosswalk_codes as (

    select old_nis_code as nis_code from {{ ref('stg_nis_crosswalk__municipality_changes') }}
    union
    select new_nis_code as nis_code from {{ ref('stg_nis_crosswalk__municipality_changes') }}

),

seen_codes as (

    select nis_code from yearly_codes
    union
    select nis_code from crosswalk_codes

),

unmapped as (

    select 'unmapped ' || seen_codes.nis_code as problem
    from seen_codes
    left join map
        on seen_codes.nis_code = map.nis_code
    where map.current_nis_code is null

),

unresolved as (

    select 'current code changed later: ' || map.nis_code as problem
    from map
    inner join {{ ref('stg_nis_crosswalk__municipality_changes') }} as changes
        on map.current_nis_code = changes.old_nis_code

),

expected as (

    select
        v.nis_code,
        v.current_nis_code,
        v.mapping_type,
        v.has_partial_transfer,
        v.changed_on
    from (
        values
        ('44029', '44084', 'merged', false, '2019-01-01'::date),
        ('54007', '57096', 'recoded', false, '2019-01-01'::date),
        ('52063', '55085', 'recoded', true, '2019-01-01'::date),
        ('11007', '11002', 'absorbed', false, '2025-01-01'::date),
        ('82003', '82039', 'merged', true, '2024-12-02'::date),
        ('73009', '73111', 'merged', false, '2025-01-01'::date),
        ('11002', '11002', 'identity', false, null::date)
    ) as v (nis_code, current_nis_code, mapping_type, has_partial_transfer, changed_on)

),

wrong_examples as (

    select 'unexpected mapping for ' || expected.nis_code as problem
    from expected
    left join map
        on expected.nis_code = map.nis_code
    where
        map.current_nis_code is distinct from expected.current_nis_code
        or map.mapping_type is distinct from expected.mapping_type
        or map.has_partial_transfer is distinct from expected.has_partial_transfer
        or map.changed_on is distinct from expected.changed_on

),

-- Seneffe, La Louvière, Silly (2019), Bastogne, Bertogne (2025)
listed_partial_transfers as (

    select v.nis_code
    from (values ('52063'), ('55022'), ('55039'), ('82003'), ('82005')) as v (nis_code)

),

flagged_partial_transfers as (

    select nis_code
    from map
    where has_partial_transfer

),

partial_transfers as (

    select
        'partial transfer set differs at '
        || coalesce(flagged_partial_transfers.nis_code, listed_partial_transfers.nis_code) as problem
    from flagged_partial_transfers
    full outer join listed_partial_transfers
        on flagged_partial_transfers.nis_code = listed_partial_transfers.nis_code
    where
        flagged_partial_transfers.nis_code is null
        or listed_partial_transfers.nis_code is null

)

select * from unmapped
union all
select * from unresolved
union all
select * from wrong_examples
union all
select * from partial_transfers
