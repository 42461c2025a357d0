-- Every row of the club files with its defects made explicit:
-- * team labels lose their cup handicap suffix '(+ N)' (kept as a number when complete; the
--   label is sometimes cut at 24 characters, e.g. 'RBC DISON-ANDRIMONT B (');
-- * shifted rows: 30 rows repeat Équipe 2 in Catégorie (each has a twin row with the category);
-- * stale rows: a row dated outside the 2026-27 season (code 405333 reused by a 2026-04-18 row).
with

rows as (

    select * from {{ ref('stg_awbb__club_matches') }}

),

final as (

    select
        club_match_row_key,
        club_matricule,
        club_slug,
        match_code,
        match_date,
        match_time,
        {{ strip_handicap('home_team_label') }} as home_team,
        {{ strip_handicap('away_team_label') }} as away_team,
        {{ team_club_name('home_team_label') }} as home_team_club_name,
        {{ team_club_name('away_team_label') }} as away_team_club_name,
        {{ handicap_points('home_team_label') }} as home_team_handicap_points,
        {{ handicap_points('away_team_label') }} as away_team_handicap_points,
        contains(home_team_label, '(') as home_team_has_handicap,
        contains(away_team_label, '(') as away_team_has_handicap,
        (
            (contains(home_team_label, '(') and {{ handicap_points('home_team_label') }} is null)
            or (contains(away_team_label, '(') and {{ handicap_points('away_team_label') }} is null)
        ) as has_cut_label,
        category_label in (home_team_label, away_team_label) as is_category_shifted,
        case when category_label not in (home_team_label, away_team_label) then category_label end as category,
        match_date between
        date '{{ var("basketball_season_start") }}'
        and date '{{ var("basketball_season_end") }}' as is_in_season,
        other_info,
        home_team_label,
        away_team_label,
        category_label
    from rows

)

select * from final
