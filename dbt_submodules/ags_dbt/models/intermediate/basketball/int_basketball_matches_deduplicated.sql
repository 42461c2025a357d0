-- One row per match code. A match between two clubs of the province is in both clubs' files, a
-- match between two teams of the same club is twice in its file, and cup fixtures have a twin row
-- whose Catégorie repeats Équipe 2: the kept row is, in order, in the 2026-27 season, not shifted,
-- not cut, then the first by key. The handicaps come from any row of the match that has them
-- complete; the home and away clubs are the clubs whose name is the club part of the team.
with

match_rows as (

    select * from {{ ref('int_basketball_match_rows_cleaned') }}

),

clubs as (

    select * from {{ ref('int_basketball_clubs_named') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by match_code
            order by
                is_in_season desc,
                is_category_shifted asc,
                has_cut_label asc,
                club_match_row_key asc
        ) as row_rank
    from match_rows

),

match_facts as (

    select
        match_code,
        max(home_team_handicap_points) filter (where is_in_season) as home_team_handicap_points,
        max(away_team_handicap_points) filter (where is_in_season) as away_team_handicap_points,
        bool_or(home_team_has_handicap) filter (where is_in_season) as home_team_has_handicap,
        bool_or(away_team_has_handicap) filter (where is_in_season) as away_team_has_handicap,
        max(other_info) filter (where is_in_season) as other_info,
        count(distinct club_matricule) filter (where is_in_season) as listing_club_files,
        count(*) as source_rows
    from match_rows
    group by match_code

),

kept as (

    select * from ranked
    where row_rank = 1

),

final as (

    select
        kept.match_code,
        kept.match_date,
        kept.match_time,
        kept.category,
        kept.home_team,
        kept.away_team,
        match_facts.home_team_has_handicap,
        match_facts.away_team_has_handicap,
        match_facts.home_team_handicap_points,
        match_facts.away_team_handicap_points,
        home_clubs.club_matricule as home_club_matricule,
        away_clubs.club_matricule as away_club_matricule,
        match_facts.other_info,
        match_facts.listing_club_files,
        match_facts.source_rows
    from kept
    inner join match_facts
        on kept.match_code = match_facts.match_code
    left join clubs as home_clubs
        on kept.home_team_club_name = home_clubs.club_name
    left join clubs as away_clubs
        on kept.away_team_club_name = away_clubs.club_name

)

select * from final
