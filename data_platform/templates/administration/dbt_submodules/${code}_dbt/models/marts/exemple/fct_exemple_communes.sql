-- One row per commune of the example file, named from data_platform's shared dim_communes.
with

counts as (

    select * from {{ ref('stg_exemple__communes') }}

),

communes as (

    select * from {{ source('data_platform', 'dim_communes') }}

),

final as (

    select
        counts.nis_code,
        communes.name_fr as commune_name_fr,
        counts.example_count
    from counts
    inner join communes on counts.nis_code = communes.nis_code

)

select * from final
