with

commune_populations as (

    select * from {{ ref('int_commune_populations_aggregated') }}

),

communes as (

    select * from {{ source('data_platform', 'dim_communes') }}

),

final as (

    select
        commune_populations.commune_year_key,
        commune_populations.nis_code,
        commune_populations.year,
        commune_populations.youth_population,
        commune_populations.population_0_4,
        commune_populations.population_5_9,
        commune_populations.population_10_14,
        commune_populations.population_15_19,
        commune_populations.total_population,
        commune_populations.youth_population / nullif(commune_populations.total_population, 0) as youth_share,
        commune_populations.has_partial_transfer
    from commune_populations
    inner join communes
        on commune_populations.nis_code = communes.nis_code
    where communes.is_fwb_territory

)

select * from final
