-- Resolution of the clubs' communes (report figure): 37 by a unique commune name of the province
-- of Liège, 20 by the basketball_club_communes seed, 1 ambiguous (R 4A AYWAILLE-HAMOIR: Aywaille
-- and Hamoir) and 11 unresolved, i.e. 57 of 69 clubs resolved. Returns the differing counts.
with

expected as (

    select
        col0 as commune_resolution,
        col1 as expected_clubs
    from (values ('name_match', 37), ('seed', 20), ('ambiguous', 1), ('unresolved', 11))

),

actual as (

    select
        commune_resolution,
        count(*) as actual_clubs
    from {{ ref('dim_basketball_clubs') }}
    group by commune_resolution

)

select
    coalesce(expected.commune_resolution, actual.commune_resolution) as commune_resolution,
    expected.expected_clubs,
    actual.actual_clubs
from expected
full outer join actual
    on expected.commune_resolution = actual.commune_resolution
where expected.expected_clubs is distinct from actual.actual_clubs
