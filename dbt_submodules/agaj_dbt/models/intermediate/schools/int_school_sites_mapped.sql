-- One row per school site and level of stg_fwb_school_population__school_sites (no fan-out), with the
-- commune of today (2025) it lies in, found from its postcode through data_platform's
-- bridge_postcodes_communes. Three postcodes serve two communes each (1040 Bruxelles / Etterbeek,
-- 1050 Bruxelles / Ixelles, 1804 Vilvorde / Zemst): a plain join would count their sites twice.
-- Rule for a shared postcode: the commune that has the fewest postcodes in the bridge, i.e. the one
-- for which this postcode is its own (Etterbeek has only 1040, Ixelles only 1050; the city of
-- Bruxelles has six postcodes and only fringes of 1040 and 1050); ties go to the smallest NIS code.
-- Every site of 1040 and 1050 in the file (Etterbeek and Ixelles streets) fits that rule; the rows
-- resolved this way are flagged by is_shared_postcode.
with

school_sites as (

    select * from {{ ref('stg_fwb_school_population__school_sites') }}

),

bridge as (

    select * from {{ source('data_platform', 'bridge_postcodes_communes') }}

),

postcodes_per_commune as (

    select
        nis_code,
        count(distinct postcode) as commune_postcode_count
    from bridge
    group by nis_code

),

-- one commune per postcode: the only one, or the one chosen by the rule above
postcode_communes as (

    select
        bridge.postcode,
        bridge.nis_code,
        bridge.communes_for_postcode
    from bridge
    inner join postcodes_per_commune
        on bridge.nis_code = postcodes_per_commune.nis_code
    qualify row_number() over (
        partition by bridge.postcode
        order by postcodes_per_commune.commune_postcode_count asc, bridge.nis_code asc
    ) = 1

),

final as (

    select
        school_sites.school_site_key,
        school_sites.school_name,
        school_sites.address,
        school_sites.postcode,
        school_sites.latitude,
        school_sites.longitude,
        school_sites.school_level,
        postcode_communes.nis_code,
        cast(postcode_communes.communes_for_postcode as integer) as communes_for_postcode,
        coalesce(postcode_communes.communes_for_postcode > 1, false) as is_shared_postcode
    from school_sites
    left join postcode_communes
        on school_sites.postcode = postcode_communes.postcode

)

select * from final
