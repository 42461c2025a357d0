with

source as (

    select * from {{ source('awbb', 'club_matches') }}

),

renamed as (

    select
        regexp_extract(filename, '([0-9]+)-([a-z0-9-]+)\.csv$', 1) as club_matricule,
        regexp_extract(filename, '([0-9]+)-([a-z0-9-]+)\.csv$', 2) as club_slug,
        regexp_extract(filename, '[^/]+$') as source_file,
        code as match_code,
        cast(date as date) as match_date,
        -- Heure is not zero-padded in some files ('9:00' and '09:00' for the same match).
        cast(heure as time) as match_time,
        trim(equipe_1) as home_team_label,
        trim(equipe_2) as away_team_label,
        trim(categorie) as category_label,
        nullif(trim(autre), '') as other_info
    from source

),

final as (

    select
        -- A row of a club file has no id of its own: the club and a number among the rows of that
        -- file sorted on their content (identical rows are interchangeable, so the key is stable).
        club_matricule || '-' || row_number() over (
            partition by club_matricule
            order by
                match_code, match_date, match_time, home_team_label, away_team_label,
                category_label, other_info
        ) as club_match_row_key,
        *
    from renamed

)

select * from final
