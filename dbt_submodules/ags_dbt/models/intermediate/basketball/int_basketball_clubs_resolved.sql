-- The commune of each club: the words of its name and slug are matched against the normalised
-- names (dim_communes.name_key) of the communes of the province of Liège ('60000'). A club whose
-- name names no commune, or several, falls back on the basketball_club_communes seed (a seed row
-- also wins over the automatic match); otherwise its commune stays NULL. Seed codes go through
-- map_nis_codes so that a code replaced by a merger still lands on today's commune.
with

clubs as (

    select * from {{ ref('int_basketball_clubs_named') }}

),

club_communes_seed as (

    select * from {{ ref('basketball_club_communes') }}

),

communes as (

    select * from {{ source('data_platform', 'dim_communes') }}

),

nis_code_map as (

    select * from {{ source('data_platform', 'map_nis_codes') }}

),

liege_communes as (

    select
        nis_code,
        name_key
    from communes
    where province_nis_code = '60000'

),

club_words as (

    select
        club_matricule,
        ' ' || club_name_key || ' ' || replace(club_slug, '-', ' ') || ' ' as padded_words
    from clubs

),

name_matches as (

    select
        club_words.club_matricule,
        count(distinct liege_communes.nis_code) as matched_communes,
        min(liege_communes.nis_code) as matched_nis_code
    from club_words
    inner join liege_communes
        on contains(club_words.padded_words, ' ' || liege_communes.name_key || ' ')
    group by club_words.club_matricule

),

seeded as (

    select
        club_communes_seed.club_matricule,
        coalesce(nis_code_map.current_nis_code, club_communes_seed.nis_code) as nis_code
    from club_communes_seed
    left join nis_code_map
        on club_communes_seed.nis_code = nis_code_map.nis_code

),

resolved as (

    select
        clubs.*,
        coalesce(name_matches.matched_communes, 0) as matched_communes,
        case
            when seeded.club_matricule is not null then seeded.nis_code
            when name_matches.matched_communes = 1 then name_matches.matched_nis_code
        end as nis_code,
        case
            when seeded.club_matricule is not null then 'seed'
            when name_matches.matched_communes = 1 then 'name_match'
            when name_matches.matched_communes > 1 then 'ambiguous'
            else 'unresolved'
        end as commune_resolution
    from clubs
    left join name_matches
        on clubs.club_matricule = name_matches.club_matricule
    left join seeded
        on clubs.club_matricule = seeded.club_matricule

),

final as (

    select
        resolved.club_matricule,
        resolved.club_slug,
        resolved.club_name,
        resolved.club_name_key,
        resolved.file_rows,
        resolved.file_rows_in_season,
        resolved.matched_communes,
        resolved.nis_code,
        communes.name_fr as commune_name_fr,
        resolved.commune_resolution
    from resolved
    left join communes
        on resolved.nis_code = communes.nis_code

)

select * from final
