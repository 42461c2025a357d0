-- One row per club file: the club's name is the club part of a team label that appears the most
-- in its own file (the club plays in every row of its file); a tie (BC Olne's file has one row)
-- goes to the name closest to the slug.
with

match_rows as (

    select * from {{ ref('int_basketball_match_rows_cleaned') }}

),

club_files as (

    select
        club_matricule,
        min(club_slug) as club_slug,
        count(*) as file_rows,
        count(*) filter (where is_in_season) as file_rows_in_season
    from match_rows
    group by club_matricule

),

team_names as (

    select
        club_matricule,
        club_slug,
        home_team_club_name as team_club_name
    from match_rows
    union all
    select
        club_matricule,
        club_slug,
        away_team_club_name as team_club_name
    from match_rows

),

name_counts as (

    select
        club_matricule,
        club_slug,
        team_club_name,
        count(*) as occurrences
    from team_names
    group by club_matricule, club_slug, team_club_name

),

ranked as (

    select
        *,
        row_number() over (
            partition by club_matricule
            order by
                occurrences desc,
                jaro_winkler_similarity(
                    {{ platform_utils.name_key('team_club_name') }}, replace(club_slug, '-', ' ')
                ) desc,
                team_club_name
        ) as name_rank
    from name_counts

),

final as (

    select
        club_files.club_matricule,
        club_files.club_slug,
        ranked.team_club_name as club_name,
        {{ platform_utils.name_key('ranked.team_club_name') }} as club_name_key,
        club_files.file_rows,
        club_files.file_rows_in_season
    from club_files
    inner join ranked
        on
            club_files.club_matricule = ranked.club_matricule
            and ranked.name_rank = 1

)

select * from final
