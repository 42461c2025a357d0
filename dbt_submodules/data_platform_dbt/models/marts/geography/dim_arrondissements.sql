with

communes as (

    select * from {{ ref('dim_communes') }}

),

yearly_communes as (

    select * from {{ ref('stg_belgian_municipalities__communes') }}

),

name_fixes as (

    select * from {{ ref('arrondissement_name_fixes') }}

),

-- one row per arrondissement of the 2025 communes (an arrondissement never spans
-- two provinces: the primary key test guards it)
arrondissements as (

    select
        arrondissement_nis_code,
        province_nis_code,
        region_nis_code,
        count(*) as communes_count,
        sum(population_2020)::bigint as population_2020
    from communes
    group by arrondissement_nis_code, province_nis_code, region_nis_code

),

-- names carried in the 2020 file by the communes whose code lies in the arrondissement
-- (the first two digits of a NIS code are its arrondissement); the most frequent one wins
-- and the seed overrides the arrondissements the file labels inconsistently (57, 58)
names_2020 as (

    select
        left(nis_code, 2) || '000' as arrondissement_nis_code,
        mode(arrondissement_name_fr) as name_fr,
        mode(arrondissement_name_nl) as name_nl
    from yearly_communes
    where year = 2020
    group by left(nis_code, 2) || '000'

),

final as (

    select
        arrondissements.arrondissement_nis_code,
        coalesce(name_fixes.name_fr, names_2020.name_fr) as name_fr,
        coalesce(name_fixes.name_nl, names_2020.name_nl) as name_nl,
        arrondissements.province_nis_code,
        arrondissements.region_nis_code,
        case
            when name_fixes.arrondissement_nis_code is not null then 'arrondissement_name_fixes'
            else 'belgian_municipalities_2020'
        end as name_source,
        arrondissements.communes_count,
        arrondissements.population_2020
    from arrondissements
    left join names_2020
        on arrondissements.arrondissement_nis_code = names_2020.arrondissement_nis_code
    left join name_fixes
        on arrondissements.arrondissement_nis_code = name_fixes.arrondissement_nis_code

)

select * from final
