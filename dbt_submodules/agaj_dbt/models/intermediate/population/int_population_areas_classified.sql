-- One row per area code of the Statbel file, with its level told by the shared reference tables
-- (never by the code's "000" suffix: the Brabant provinces are 20001 and 20002). Commune codes are
-- those of map_nis_codes (every historic commune code) and carry today's commune they belong to.
with

population as (

    select * from {{ ref('stg_statbel__population_age_bands') }}

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

areas as (

    select distinct area_nis_code
    from population

),

regions as (

    select distinct region_nis_code as nis_code
    from communes
    where region_nis_code is not null

),

provinces as (

    select distinct province_nis_code as nis_code
    from communes
    where province_nis_code is not null

),

classified as (

    select
        areas.area_nis_code,
        case
            -- REFNIS code of the Kingdom: the one level without a reference table
            when areas.area_nis_code = '01000' then 'country'
            when regions.nis_code is not null then 'region'
            when provinces.nis_code is not null then 'province'
            when arrondissements.arrondissement_nis_code is not null then 'arrondissement'
            when map_nis_codes.nis_code is not null then 'commune'
            -- e.g. 54000, arrondissement of Mouscron, abolished on 2019-01-01
            else 'unclassified'
        end as area_level,
        map_nis_codes.current_nis_code,
        map_nis_codes.has_partial_transfer
    from areas
    left join regions
        on areas.area_nis_code = regions.nis_code
    left join provinces
        on areas.area_nis_code = provinces.nis_code
    left join arrondissements
        on areas.area_nis_code = arrondissements.arrondissement_nis_code
    left join map_nis_codes
        on areas.area_nis_code = map_nis_codes.nis_code

),

final as (

    select
        area_nis_code,
        area_level,
        case when area_level = 'commune' then current_nis_code end as current_nis_code,
        case when area_level = 'commune' then has_partial_transfer end as has_partial_transfer
    from classified

)

select * from final
