with

walks_2022 as (

    select * from {{ ref('stg_adeps__walks_2022') }}

),

walks_2024 as (

    select * from {{ ref('stg_adeps__walks_2024') }}

),

unioned as (

    select * from walks_2022
    union all by name
    select * from walks_2024

),

final as (

    select
        walk_key,
        snapshot,
        adeps_record_id,
        adeps_walk_id,
        organiser_code,
        organiser_name,
        walk_date,
        status,
        activity,
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
        record_updated_at,
        {{ platform_utils.name_key('entite') }} as entite_key
    from unioned

)

select * from final
