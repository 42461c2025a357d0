with

matches as (

    select * from {{ ref('int_basketball_matches_deduplicated') }}

),

final as (

    select
        match_code,
        match_date,
        match_time,
        category,
        home_team,
        away_team,
        home_team_has_handicap,
        away_team_has_handicap,
        home_team_handicap_points,
        away_team_handicap_points,
        home_club_matricule,
        away_club_matricule,
        coalesce(home_club_matricule = away_club_matricule, false) as is_intra_club_match,
        other_info,
        listing_club_files
    from matches

)

select * from final
