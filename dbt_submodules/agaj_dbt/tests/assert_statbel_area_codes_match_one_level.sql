{{ config(meta={'dagster': {'ref': {'name': 'int_population_areas_classified'}}}) }}

-- Each area code of the Statbel file must be found in at most one of the reference tables used to tell
-- the levels apart (regions, provinces, arrondissements, commune codes of map_nis_codes): otherwise the
-- classification in int_population_areas_classified would depend on the order of its case branches.
with

areas as (

    select * from {{ ref('int_population_areas_classified') }}

),

map_nis_codes as (

    select * from {{ source('data_platform', 'map_nis_codes') }}

),

communes as (

    select * from {{ source('data_platform', 'dim_communes') }}

),

arrondissements as (

    select * from {{ source('data_platform', 'dim_arrondissements') }}

),

reference_codes as (

    select distinct
        region_nis_code as nis_code,
        'region' as reference_level
    from communes
    where region_nis_code is not null
    union all
    select distinct
        province_nis_code as nis_code,
        'province' as reference_level
    from communes
    where province_nis_code is not null
    union all
    select
        arrondissement_nis_code as nis_code,
        'arrondissement' as reference_level
    from arrondissements
    union all
    select
        nis_code,
        'commune' as reference_level
    from map_nis_codes

),

final as (

    select
        areas.area_nis_code,
        count(*) as reference_match_count,
        string_agg(reference_codes.reference_level, ', ') as reference_levels
    from areas
    inner join reference_codes
        on areas.area_nis_code = reference_codes.nis_code
    group by areas.area_nis_code
    having count(*) > 1

)

select * from final
