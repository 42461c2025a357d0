{% macro stg_fwb_pupil_counts(source_table) %}
{#-
    Staging of one FWB pupil-count file (preschool_quantity_FR.csv or primary_quantity_FR.csv,
    same three columns): one row per line, the Walloon region total (first line) and one line per
    commune (NIS codes of before 2019). The region's code is written without its leading zero
    ("3000"): every code is padded to 5 characters. The total row is kept here and set apart in
    the intermediate layer.
-#}
with

source as (

    select * from {{ source('fwb_school_population', source_table) }}

),

final as (

    select
        cast(lpad(trim(nis_code), 5, '0') as varchar(5)) as nis_code,
        trim(commune) as commune_name,
        cast(pupils as integer) as pupils
    from source

)

select * from final
{% endmacro %}
