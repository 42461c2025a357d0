with

youth_communes as (

    select * from {{ ref('fct_youth_population_communes') }}

),

communes as (

    select * from {{ source('data_platform', 'dim_communes') }}

),

aggregated as (

    select
        communes.arrondissement_nis_code,
        youth_communes.year,
        sum(youth_communes.youth_population) as youth_population,
        sum(youth_communes.population_0_4) as population_0_4,
        sum(youth_communes.population_5_9) as population_5_9,
        sum(youth_communes.population_10_14) as population_10_14,
        sum(youth_communes.population_15_19) as population_15_19,
        sum(youth_communes.total_population) as total_population,
        count(*) as commune_count,
        bool_or(youth_communes.has_partial_transfer) as has_partial_transfer
    from youth_communes
    inner join communes
        on youth_communes.nis_code = communes.nis_code
    group by communes.arrondissement_nis_code, youth_communes.year

),

final as (

    select
        arrondissement_nis_code || '-' || year as arrondissement_year_key,
        arrondissement_nis_code,
        year,
        cast(youth_population as integer) as youth_population,
        cast(population_0_4 as integer) as population_0_4,
        cast(population_5_9 as integer) as population_5_9,
        cast(population_10_14 as integer) as population_10_14,
        cast(population_15_19 as integer) as population_15_19,
        cast(total_population as integer) as total_population,
        youth_population / nullif(total_population, 0) as youth_share,
        cast(commune_count as integer) as commune_count,
        has_partial_transfer
    from aggregated

)

select * from final
