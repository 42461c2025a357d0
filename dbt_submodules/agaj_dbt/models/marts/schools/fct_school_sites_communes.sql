-- One row per commune of today (2025) with at least one FWB school site in 2014. A site (implantation)
-- is a distinct school name + address + postcode; it counts once per level it teaches, and once in
-- school_sites whatever its levels and however many rows (with or without coordinates) the file has.
with

school_sites as (

    select * from {{ ref('int_school_sites_mapped') }}

),

communes as (

    select * from {{ source('data_platform', 'dim_communes') }}

),

sites as (

    select
        nis_code,
        school_name || '|' || address || '|' || postcode as site_id,
        school_level,
        latitude,
        is_shared_postcode
    from school_sites

),

aggregated as (

    select
        nis_code,
        count(distinct site_id) as school_sites,
        count(distinct site_id) filter (where school_level = 'Maternel ordinaire') as preschool_sites,
        count(distinct site_id) filter (where school_level = 'Primaire ordinaire') as primary_sites,
        count(distinct site_id) filter (where latitude is not null) as geolocated_sites,
        count(distinct site_id) filter (where is_shared_postcode) as shared_postcode_sites,
        count(*) as site_level_rows
    from sites
    group by nis_code

),

final as (

    select
        aggregated.nis_code,
        communes.name_fr as commune_name_fr,
        cast(aggregated.school_sites as integer) as school_sites,
        cast(aggregated.preschool_sites as integer) as preschool_sites,
        cast(aggregated.primary_sites as integer) as primary_sites,
        cast(aggregated.preschool_sites + aggregated.primary_sites - aggregated.school_sites as integer)
            as both_levels_sites,
        cast(aggregated.geolocated_sites as integer) as geolocated_sites,
        cast(aggregated.shared_postcode_sites as integer) as shared_postcode_sites,
        cast(aggregated.site_level_rows as integer) as site_level_rows,
        communes.is_fwb_territory
    from aggregated
    inner join communes
        on aggregated.nis_code = communes.nis_code

)

select * from final
