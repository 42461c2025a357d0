with

youth_communes as (

    select * from {{ ref('fct_youth_population_communes') }}

),

pivoted as (

    select
        nis_code,
        max(youth_population) filter (where year = 2001) as youth_2001,
        max(youth_population) filter (where year = 2013) as youth_2013,
        bool_or(has_partial_transfer) as has_partial_transfer
    from youth_communes
    group by nis_code

),

final as (

    select
        nis_code,
        youth_2001,
        youth_2013,
        youth_2013 - youth_2001 as change,  -- noqa: RF04
        100.0 * (youth_2013 - youth_2001) / nullif(youth_2001, 0) as change_pct,
        has_partial_transfer
    from pivoted

)

select * from final
