-- One row per (ADEPS commune name, ADEPS province) met in the walks, resolved to today's commune:
-- the name is normalised like dim_communes.name_key, abbreviated forms ('St-Ghislain',
-- 'Ottignies-L.L.N.', ...) go through the adeps_entite_aliases seed, and homonyms ('saint nicolas'
-- is 46021 in Flanders and 62093 in Liège) are told apart by the official province of ADEPS's
-- province (adeps_provinces seed: "Hainaut Est"/"Hainaut Ouest" are both Hainaut, Brussels has
-- no province but its own region).
with

walks as (

    select * from {{ ref('int_walks_unioned') }}

),

entite_aliases as (

    select * from {{ ref('adeps_entite_aliases') }}

),

adeps_provinces as (

    select * from {{ ref('adeps_provinces') }}

),

communes as (

    select * from {{ source('data_platform', 'dim_communes') }}

),

entites as (

    select
        entite_key,
        adeps_province,
        min(entite) as entite_example,
        count(*) as walks
    from walks
    group by entite_key, adeps_province

),

with_aliases as (

    select
        entites.*,
        coalesce(entite_aliases.commune_name_key, entites.entite_key) as commune_name_key,
        entite_aliases.entite_key is not null as is_alias,
        adeps_provinces.province_nis_code,
        adeps_provinces.region_nis_code
    from entites
    left join entite_aliases
        on entites.entite_key = entite_aliases.entite_key
    left join adeps_provinces
        on entites.adeps_province = adeps_provinces.adeps_province

),

resolved as (

    select
        with_aliases.*,
        communes.nis_code,
        communes.name_fr as commune_name_fr
    from with_aliases
    left join communes
        on
            with_aliases.commune_name_key = communes.name_key
            and with_aliases.region_nis_code = communes.region_nis_code
            and with_aliases.province_nis_code is not distinct from communes.province_nis_code

),

final as (

    select
        entite_key || ' | ' || adeps_province as entite_province_key,
        entite_key,
        adeps_province,
        entite_example,
        is_alias,
        commune_name_key,
        province_nis_code,
        region_nis_code,
        nis_code,
        commune_name_fr,
        walks
    from resolved

)

select * from final
