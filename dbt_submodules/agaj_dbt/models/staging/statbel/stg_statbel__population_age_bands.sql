-- One row per area (any level), year, sex and 5-year age band, as published by Statbel.
-- The JSON document wraps every fact in a single "facts" array: unnest it, then rename and cast.
with

source as (

    select * from {{ source('statbel', 'population_age_gender') }}

),

facts as (

    select unnest(facts) as fact
    from source

),

renamed as (

    select
        cast(fact.g as varchar(5)) as area_nis_code,
        cast(fact.y as integer) as year,  -- noqa: RF04
        cast(fact.s as varchar(1)) as sex,
        -- C is the upper bound of the band (4 = 0-4 years, ..., 99 = 95-99); 100 stands for 100 years and more
        case when fact.c = 100 then 100 else cast(fact.c as integer) - 4 end as age_min,
        case when fact.c = 100 then null else cast(fact.c as integer) end as age_max,
        cast(fact.m as integer) as population
    from facts

),

final as (

    select
        area_nis_code || '-' || year || '-' || sex || '-' || lpad(cast(age_min as varchar), 3, '0')
            as population_key,
        area_nis_code,
        year,
        sex,
        age_min,
        age_max,
        population
    from renamed

)

select * from final
