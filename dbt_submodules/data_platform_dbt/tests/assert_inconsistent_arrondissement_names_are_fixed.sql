{{ config(meta={'dagster': {'ref': {'name': 'arrondissement_name_fixes'}}}) }}

-- The 2020 list labels some arrondissements with several names (57: Tournai-Mouscron and the
-- former Tournai; 58: the former Soignies and Thuin). Every such arrondissement must be
-- covered by the arrondissement_name_fixes seed, and every fix must still be needed.
with

names_2020 as (

    select
        left(nis_code, 2) || '000' as arrondissement_nis_code,
        count(distinct arrondissement_name_fr) as names_fr,
        count(distinct arrondissement_name_nl) as names_nl
    from {{ ref('stg_belgian_municipalities__communes') }}
    where year = 2020
    group by left(nis_code, 2) || '000'

),

inconsistent as (

    select arrondissement_nis_code
    from names_2020
    where names_fr > 1 or names_nl > 1

),

fixes as (

    select arrondissement_nis_code from {{ ref('arrondissement_name_fixes') }}

)

select
    coalesce(inconsistent.arrondissement_nis_code, fixes.arrondissement_nis_code)
        as arrondissement_nis_code,
    inconsistent.arrondissement_nis_code is not null as is_inconsistent,
    fixes.arrondissement_nis_code is not null as is_fixed
from inconsistent
full outer join fixes
    on inconsistent.arrondissement_nis_code = fixes.arrondissement_nis_code
where inconsistent.arrondissement_nis_code is null or fixes.arrondissement_nis_code is null
