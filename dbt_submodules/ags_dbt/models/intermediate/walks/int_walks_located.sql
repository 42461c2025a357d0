-- The walks of both snapshots with the NIS code (at 2025-01-01) of the commune named by `entite`.
with

walks as (

    select * from {{ ref('int_walks_unioned') }}

),

entites as (

    select * from {{ ref('int_walk_entites_resolved') }}

),

final as (

    select
        walks.walk_key,
        walks.snapshot,
        walks.adeps_record_id,
        walks.adeps_walk_id,
        walks.organiser_code,
        walks.organiser_name,
        walks.walk_date,
        walks.status,
        walks.activity,
        walks.entite,
        walks.locality,
        walks.adeps_province,
        walks.latitude,
        walks.longitude,
        walks.ign_map_sheet,
        walks.meeting_point,
        walks.meeting_point_info,
        walks.public_transport,
        walks.gpx_tracks,
        walks.has_15km_route,
        walks.has_extra_10km_walk,
        walks.is_wheelchair_accessible,
        walks.is_pushchair_accessible,
        walks.has_extra_orientation,
        walks.has_guided_walk,
        walks.has_bike_route,
        walks.has_mountain_bike_route,
        walks.has_refreshments,
        walks.is_bewapp,
        walks.is_adep_sante,
        walks.has_contact,
        walks.record_updated_at,
        walks.entite_key,
        entites.nis_code,
        entites.commune_name_fr,
        entites.province_nis_code,
        entites.region_nis_code,
        walks.status = 'Annulé' as is_cancelled
    from walks
    left join entites
        on
            walks.entite_key = entites.entite_key
            and walks.adeps_province = entites.adeps_province

)

select * from final
