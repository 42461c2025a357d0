with

walks as (

    select * from {{ ref('int_walks_located') }}

),

final as (

    select
        organiser_code,
        arg_max(organiser_name, walk_key) as organiser_name,
        arg_max(adeps_province, walk_key) as adeps_province,
        arg_max(nis_code, walk_key) as last_walk_nis_code,
        min(snapshot) as first_snapshot,
        max(snapshot) as last_snapshot,
        count(*) filter (where snapshot = '2022-06') as walks_2022,
        count(*) filter (where snapshot = '2024-11') as walks_2024,
        count(*) filter (where snapshot = '2022-06') > 0
        and count(*) filter (where snapshot = '2024-11') > 0 as present_in_both,
        count(distinct organiser_name) as organiser_names
    from walks
    group by organiser_code

)

select * from final
