{{ config(meta={'dagster': {'ref': {'name': 'dim_communes'}}}) }}

-- name_key is not a unique key by design. Among the 2025 communes, the key 'saint nicolas'
-- (62093 Saint-Nicolas, Liège) is also the French name used for 46021 Sint-Niklaas in the
-- yearly lists; that is the only ambiguous key today. Fails on any other ambiguity, on a
-- missing one, or when a free-text join of name_key on the 2020 French names fans out
-- anywhere else than on 'saint nicolas' (62093 matches 46021 and 62093).
with

communes as (

    select * from {{ ref('dim_communes') }}

),

flagged as (

    select 'flagged ' || nis_code as problem
    from communes
    where is_name_key_ambiguous and nis_code <> '62093'

    union all

    select 'not flagged 62093' as problem
    where not exists (
        select 1 from communes
        where nis_code = '62093' and is_name_key_ambiguous and name_key = 'saint nicolas'
    )

),

-- joining the 2020 French names on name_key matches two 2020 communes for 62093 only
free_text_join as (

    select
        communes.nis_code,
        count(*) as matches
    from communes
    inner join {{ ref('stg_belgian_municipalities__communes') }} as yearly
        on communes.name_key = {{ platform_utils.name_key('yearly.name_fr') }}
    where yearly.year = 2020
    group by communes.nis_code
    having count(*) > 1

),

fan_out as (

    select 'free-text join fans out on ' || nis_code as problem
    from free_text_join
    where nis_code <> '62093' or matches <> 2

    union all

    select 'free-text join no longer fans out on 62093' as problem
    where not exists (
        select 1 from free_text_join
        where nis_code = '62093'
    )

)

select * from flagged
union all
select * from fan_out
