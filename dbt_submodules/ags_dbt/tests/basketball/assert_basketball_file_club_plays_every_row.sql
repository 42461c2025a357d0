{{ config(meta={'dagster': {'ref': {'name': 'int_basketball_clubs_named'}}}) }}

-- The club of a file plays in every row of its file: its derived name is the club part of the
-- home or the away team. Validates the naming of dim_basketball_clubs (and so the home/away clubs).
select
    match_rows.club_match_row_key,
    clubs.club_name,
    match_rows.home_team,
    match_rows.away_team
from {{ ref('int_basketball_match_rows_cleaned') }} as match_rows
inner join {{ ref('int_basketball_clubs_named') }} as clubs
    on match_rows.club_matricule = clubs.club_matricule
where clubs.club_name not in (match_rows.home_team_club_name, match_rows.away_team_club_name)
