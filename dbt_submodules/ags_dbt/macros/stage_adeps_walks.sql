{% macro stage_adeps_walks(source_relation, snapshot) %}
{#- Shared body of the staging models of the ADEPS snapshots (one model per source table):
    flattens records[].fields, renames and casts, and drops the organiser's personal data
    (nom, prenom, gsm), keeping only the boolean has_contact. -#}
with

source as (

    select * from {{ source_relation }}

),

records as (

    select unnest(records) as api_record
    from source

),

record_columns as (

    select unnest(api_record)
    from records

),

record_fields as (

    select
        recordid,
        record_timestamp,
        unnest(fields)
    from record_columns

),

final as (

    select
        '{{ snapshot }}' || '-' || ndeg_pv || '-' || strftime("date", '%Y-%m-%d') as walk_key,
        '{{ snapshot }}' as snapshot,
        recordid as adeps_record_id,
        id as adeps_walk_id,
        ndeg_pv as organiser_code,
        groupement as organiser_name,
        cast("date" as date) as walk_date,
        statut as status,
        activite as activity,
        entite,
        localite as locality,
        province as adeps_province,
        cast(latitude as double) as latitude,
        cast(longitude as double) as longitude,
        ign as ign_map_sheet,
        {{ mask_phone_numbers('lieu_de_rendez_vous') }} as meeting_point,
        {{ mask_phone_numbers('infos_rendez_vous') }} as meeting_point_info,
        {{ mask_phone_numbers('gare') }} as public_transport,
        cast(coalesce(json_array_length(traces_gpx), 0) as integer) as gpx_tracks,
        {{ oui_non_to_boolean('"15km"') }} as has_15km_route,
        {{ oui_non_to_boolean('"10km"') }} as has_extra_10km_walk,
        {{ oui_non_to_boolean('pmr') }} as is_wheelchair_accessible,
        {{ oui_non_to_boolean('poussettes') }} as is_pushchair_accessible,
        {{ oui_non_to_boolean('orientation') }} as has_extra_orientation,
        {{ oui_non_to_boolean('balade_guidee') }} as has_guided_walk,
        {{ oui_non_to_boolean('velo') }} as has_bike_route,
        {{ oui_non_to_boolean('vtt') }} as has_mountain_bike_route,
        {{ oui_non_to_boolean('ravitaillement') }} as has_refreshments,
        {{ oui_non_to_boolean('bewapp') }} as is_bewapp,
        {{ oui_non_to_boolean('adep_sante') }} as is_adep_sante,
        (nom is not null or prenom is not null or gsm is not null) as has_contact,
        record_timestamp as record_updated_at
    from record_fields

)

select * from final
{% endmacro %}
