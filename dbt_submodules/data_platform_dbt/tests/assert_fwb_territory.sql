-- FWB territory = Walloon Region minus the 9 communes of the German language area, plus the
-- 19 Brussels communes: 271 communes. Arrondissement 63 (Verviers) is NOT entirely
-- German-speaking: Verviers 63079, Spa 63072, Malmedy 63049 are in the territory.
with

communes as (

    select * from {{ ref('dim_communes') }}

),

checks as (

    select
        'fwb communes: ' || count(*) filter (where is_fwb_territory) as problem,
        count(*) filter (where is_fwb_territory) = 271 as ok
    from communes

    union all

    select
        'flemish commune in fwb: ' || coalesce(string_agg(nis_code, ', '), '') as problem,
        count(*) = 0 as ok
    from communes
    where region_nis_code = '02000' and is_fwb_territory

    union all

    select
        'brussels commune outside fwb: ' || coalesce(string_agg(nis_code, ', '), '') as problem,
        count(*) = 0 as ok
    from communes
    where region_nis_code = '04000' and not is_fwb_territory

    union all

    select
        'walloon communes outside fwb: ' || string_agg(nis_code, ', ' order by nis_code) as problem,
        string_agg(nis_code, ',' order by nis_code)
        = '63001,63012,63013,63023,63040,63048,63061,63067,63087' as ok
    from communes
    where region_nis_code = '03000' and not is_fwb_territory

    union all

    select
        'french-speaking verviers communes outside fwb' as problem,
        count(*) = 3 as ok
    from communes
    where nis_code in ('63079', '63072', '63049') and is_fwb_territory

)

select problem
from checks
where not ok
