with

commune_pupils as (

    select * from {{ ref('int_commune_pupils_mapped') }}

),

commune_populations as (

    select * from {{ ref('int_commune_populations_aggregated') }}

),

communes as (

    select * from {{ source('data_platform', 'dim_communes') }}

),

youth_2013 as (

    select
        nis_code,
        youth_population
    from commune_populations
    where year = 2013

),

final as (

    select
        commune_pupils.nis_code,
        commune_pupils.preschool_pupils,
        commune_pupils.primary_pupils,
        commune_pupils.total_pupils,
        youth_2013.youth_population as youth_population_2013,
        100.0 * commune_pupils.total_pupils / nullif(youth_2013.youth_population, 0) as pupils_per_100_young,
        communes.is_fwb_territory,
        commune_pupils.has_partial_transfer
    from commune_pupils
    inner join communes
        on commune_pupils.nis_code = communes.nis_code
    left join youth_2013
        on commune_pupils.nis_code = youth_2013.nis_code

)

select * from final
