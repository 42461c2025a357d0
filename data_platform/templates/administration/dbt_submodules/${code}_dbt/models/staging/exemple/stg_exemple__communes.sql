-- One row per commune of the example file: renamed and cast, nothing else (staging).
with

source as (

    select * from {{ source('exemple', 'communes') }}

),

renamed as (

    select
        cast(code_nis as varchar(5)) as nis_code,
        cast(nombre as integer) as example_count
    from source

)

select * from renamed
