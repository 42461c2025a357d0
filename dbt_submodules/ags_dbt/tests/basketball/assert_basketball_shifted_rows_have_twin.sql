-- The 30 shifted rows (Catégorie repeats Équipe 2) each have, in the same file, a twin row of the
-- same match with the real category, so dropping their category loses nothing.
with

match_rows as (

    select * from {{ ref('int_basketball_match_rows_cleaned') }}

),

shifted as (

    select * from match_rows
    where is_category_shifted

),

twins as (

    select distinct
        club_matricule,
        match_code
    from match_rows
    where not is_category_shifted

)

select shifted.club_match_row_key
from shifted
left join twins
    on
        shifted.club_matricule = twins.club_matricule
        and shifted.match_code = twins.match_code
where twins.match_code is null
union all
select 'expected 30 shifted rows, found ' || count(*) as club_match_row_key
from shifted
having count(*) <> 30
