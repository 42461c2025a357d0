with

walks as (

    select * from {{ ref('int_walks_located') }}

),

final as (

    select
        walk_key,
        snapshot,
        walk_date,
        organiser_code,
        organiser_name,
        status,
        is_cancelled,
        activity,
        nis_code,
        commune_name_fr,
        province_nis_code,
        region_nis_code,
        entite,
        locality,
        adeps_province,
        latitude,
        longitude,
        ign_map_sheet,
        meeting_point,
        meeting_point_info,
        public_transport,
        gpx_tracks,
        has_15km_route,
        has_extra_10km_walk,
        is_wheelchair_accessible,
        is_pushchair_accessible,
        has_extra_orientation,
        has_guided_walk,
        has_bike_route,
        has_mountain_bike_route,
        has_refreshments,
        is_bewapp,
        is_adep_sante,
        has_contact,
        adeps_walk_id,
        adeps_record_id,
        record_updated_at
    from walks

)

select * from final
