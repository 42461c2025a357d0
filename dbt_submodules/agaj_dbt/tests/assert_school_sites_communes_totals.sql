{{ config(meta={'dagster': {'ref': {'name': 'fct_school_sites_communes'}}}) }}

-- fct_school_sites_communes keeps every school site: its rows add up to the 6,617 rows of staging and
-- to the 3,842 distinct sites (school name + address + postcode) of the file: 3,462 with pre-school,
-- 3,153 with primary, 2,773 with both, 3,723 with coordinates, 31 in a shared postcode. 272 communes of
-- today: the 271 communes of the FWB territory (all have schools) and Renaix (45041).
with

school_sites as (

    select * from {{ ref('stg_fwb_school_population__school_sites') }}

),

sites_mart as (

    select * from {{ ref('fct_school_sites_communes') }}

),

communes as (

    select * from {{ source('data_platform', 'dim_communes') }}

),

staging_sites as (

    select distinct
        school_name,
        address,
        postcode
    from school_sites

),

staging_counts as (

    select
        (select count(*) from school_sites) as site_level_rows,
        count(*) as school_sites
    from staging_sites

),

mart_counts as (

    select
        sum(site_level_rows) as site_level_rows,
        sum(school_sites) as school_sites,
        sum(preschool_sites) as preschool_sites,
        sum(primary_sites) as primary_sites,
        sum(both_levels_sites) as both_levels_sites,
        sum(geolocated_sites) as geolocated_sites,
        sum(shared_postcode_sites) as shared_postcode_sites,
        count(*) as commune_count,
        count(*) filter (where is_fwb_territory) as fwb_commune_count,
        string_agg(nis_code, ',') filter (where not is_fwb_territory) as non_fwb_communes
    from sites_mart

),

fwb_communes as (

    select count(*) as fwb_commune_count
    from communes
    where is_fwb_territory

),

final as (

    select
        mart_counts.*,
        staging_counts.site_level_rows as staging_rows,
        staging_counts.school_sites as staging_sites
    from mart_counts
    cross join staging_counts
    cross join fwb_communes
    where
        mart_counts.site_level_rows != staging_counts.site_level_rows
        or mart_counts.school_sites != staging_counts.school_sites
        or mart_counts.site_level_rows != 6617
        or mart_counts.school_sites != 3842
        or mart_counts.preschool_sites != 3462
        or mart_counts.primary_sites != 3153
        or mart_counts.both_levels_sites != 2773
        or mart_counts.geolocated_sites != 3723
        or mart_counts.shared_postcode_sites != 31
        or mart_counts.commune_count != 272
        or mart_counts.fwb_commune_count != fwb_communes.fwb_commune_count
        or mart_counts.fwb_commune_count != 271
        or mart_counts.non_fwb_communes is distinct from '45041'

)

select * from final
