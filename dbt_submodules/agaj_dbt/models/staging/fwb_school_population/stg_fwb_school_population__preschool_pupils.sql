-- One row per line of preschool_quantity_FR.csv: the Walloon region total (first line) and one line per
-- commune (NIS codes of before 2019). The region's code is written without its leading zero ("3000"):
-- pad every code to 5 characters. The total row is kept here and set apart in the intermediate layer.
with

source as (

    select * from {{ source('fwb_school_population', 'preschool_quantity_fr') }}

),

final as (

    select
        cast(lpad(trim(nis_code), 5, '0') as varchar(5)) as nis_code,
        trim(commune) as commune_name,
        cast(pupils as integer) as pupils
    from source

)

select * from final
