{{ config(meta={'dagster': {'ref': {'name': 'int_school_sites_mapped'}}}) }}

-- Resolving the commune from the postcode must not fan out: int_school_sites_mapped has exactly the
-- rows of staging. The sites of the shared postcodes go to the commune for which the postcode is its
-- own (fewest postcodes in the bridge): 1040 -> Etterbeek 21005 (19 rows), 1050 -> Ixelles 21009
-- (34 rows), and only those 53 rows are flagged is_shared_postcode. The file has no site in 1804.
with

school_sites as (

    select * from {{ ref('stg_fwb_school_population__school_sites') }}

),

mapped as (

    select * from {{ ref('int_school_sites_mapped') }}

),

expected as (

    select expected_postcodes.*
    from (
        values
        ('1040', '21005', 19),
        ('1050', '21009', 34)
    ) as expected_postcodes (postcode, nis_code, site_rows)

),

actual as (

    select
        postcode,
        nis_code,
        count(*) as site_rows
    from mapped
    where is_shared_postcode
    group by postcode, nis_code

),

postcode_gaps as (

    select
        coalesce(expected.postcode, actual.postcode) as check_name,
        expected.site_rows as expected_value,
        actual.site_rows as actual_value
    from expected
    full outer join actual
        on
            expected.postcode = actual.postcode
            and expected.nis_code = actual.nis_code
    where actual.site_rows is distinct from expected.site_rows

),

row_gaps as (

    select
        'mapped rows' as check_name,
        (select count(*) from school_sites) as expected_value,
        count(*) as actual_value
    from mapped
    having count(*) != (select count(*) from school_sites)

),

flag_gaps as (

    select
        'flag without two communes' as check_name,
        0 as expected_value,
        count(*) as actual_value
    from mapped
    where is_shared_postcode != (communes_for_postcode > 1)
    having count(*) != 0

),

final as (

    select * from postcode_gaps
    union all
    select * from row_gaps
    union all
    select * from flag_gaps

)

select * from final
