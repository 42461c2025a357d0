{{ config(meta={'dagster': {'ref': {'name': 'basketball_club_communes'}}}) }}

-- The basketball_club_communes seed names the commune of each NIS code it lists: the name must be
-- dim_communes.name_fr of that code (guards against a mistyped code).
select
    seed.club_matricule,
    seed.nis_code,
    seed.commune_name_fr,
    communes.name_fr
from {{ ref('basketball_club_communes') }} as seed
left join {{ source('data_platform', 'dim_communes') }} as communes
    on seed.nis_code = communes.nis_code
where communes.name_fr is distinct from seed.commune_name_fr
