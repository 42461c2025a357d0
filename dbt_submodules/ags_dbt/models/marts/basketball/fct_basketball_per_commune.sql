-- One row per commune to which at least one CP Liège club is resolved.
with

clubs as (

    select * from {{ ref('int_basketball_clubs_resolved') }}

),

matches as (

    select * from {{ ref('int_basketball_matches_deduplicated') }}

),

communes as (

    select * from {{ source('data_platform', 'dim_communes') }}

),

club_home_matches as (

    select
        home_club_matricule as club_matricule,
        count(*) as home_matches
    from matches
    group by home_club_matricule

),

per_commune as (

    select
        clubs.nis_code,
        count(*) as clubs,
        coalesce(sum(club_home_matches.home_matches), 0)::bigint as home_matches
    from clubs
    left join club_home_matches
        on clubs.club_matricule = club_home_matches.club_matricule
    where clubs.nis_code is not null
    group by clubs.nis_code

),

final as (

    select
        per_commune.nis_code,
        communes.name_fr as commune_name_fr,
        communes.province_nis_code,
        per_commune.clubs,
        per_commune.home_matches,
        communes.population_2020
    from per_commune
    inner join communes
        on per_commune.nis_code = communes.nis_code

)

select * from final
