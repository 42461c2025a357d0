-- Only 1040, 1050 and 1804 serve several communes (two each): a join on the postcode alone
-- fans out there and nowhere else. communes_for_postcode must equal the real count.
with

bridge as (

    select * from {{ ref('bridge_postcodes_communes') }}

),

counted as (

    select
        postcode,
        count(*) as communes,
        min(communes_for_postcode) as min_declared,
        max(communes_for_postcode) as max_declared
    from bridge
    group by postcode

)

select *
from counted
where
    min_declared <> communes
    or max_declared <> communes
    or (communes > 1) <> (postcode in ('1040', '1050', '1804'))
    or (postcode in ('1040', '1050', '1804') and communes <> 2)
