{{ config(meta={'dagster': {'ref': {'name': 'adeps_entite_aliases'}}}) }}

-- SOURCE.md lists 5 abbreviated commune names ("St-Ghislain", "Ottignies-L.L.N.", ...): the
-- adeps_entite_aliases seed holds exactly 5 forms and each is met in the walks.
-- Returns the unused seed rows, or a row if the seed does not hold 5 forms.
select aliases.entite_key
from {{ ref('adeps_entite_aliases') }} as aliases
left join {{ ref('int_walk_entites_resolved') }} as resolved
    on aliases.entite_key = resolved.entite_key
where resolved.entite_key is null
union all
select 'the seed holds ' || count(*) || ' forms instead of 5' as entite_key
from {{ ref('adeps_entite_aliases') }}
having count(*) <> 5
