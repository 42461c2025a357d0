with

clubs as (

    select * from {{ ref('int_basketball_clubs_resolved') }}

),

matches as (

    select * from {{ ref('int_basketball_matches_deduplicated') }}

),

home_matches as (

    select
        home_club_matricule as club_matricule,
        count(*) as home_matches
    from matches
    where home_club_matricule is not null
    group by home_club_matricule

),

away_matches as (

    select
        away_club_matricule as club_matricule,
        count(*) as away_matches
    from matches
    where away_club_matricule is not null
    group by away_club_matricule

),

final as (

    select
        clubs.club_matricule,
        clubs.club_slug,
        clubs.club_name,
        clubs.nis_code,
        clubs.commune_name_fr,
        clubs.commune_resolution,
        coalesce(home_matches.home_matches, 0) as home_matches,
        coalesce(away_matches.away_matches, 0) as away_matches,
        clubs.file_rows
    from clubs
    left join home_matches
        on clubs.club_matricule = home_matches.club_matricule
    left join away_matches
        on clubs.club_matricule = away_matches.club_matricule

)

select * from final
