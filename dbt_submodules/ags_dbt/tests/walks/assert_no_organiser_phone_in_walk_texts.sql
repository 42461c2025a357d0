{{ config(meta={'dagster': {'ref': {'name': 'fct_walks'}}}) }}

-- PERSONAL DATA: the organisers' gsm numbers of the raw files must not appear (digits compared)
-- in any text column of the intermediate or mart walk models. Three raw records repeat the gsm
-- in infos_rendez_vous; staging masks phone numbers in free text.
with

raw_records as (

    select unnest(records) as api_record
    from {{ source('adeps', 'walks_2022') }}
    union all
    select unnest(records) as api_record
    from {{ source('adeps', 'walks_2024') }}

),

raw_gsm as (

    select struct_extract(struct_extract(api_record, 'fields'), 'gsm') as gsm
    from raw_records

),

gsm_numbers as (

    select distinct regexp_replace(gsm, '[^0-9]', '', 'g') as gsm_digits
    from raw_gsm
    where gsm is not null

),

walk_texts as (

    select
        walk_key,
        regexp_replace(
            concat_ws('|', meeting_point, meeting_point_info, public_transport, organiser_name, locality),
            '[^0-9]', '', 'g'
        ) as text_digits
    from {{ ref('fct_walks') }}
    union all
    select
        walk_key,
        regexp_replace(
            concat_ws('|', meeting_point, meeting_point_info, public_transport, organiser_name, locality),
            '[^0-9]', '', 'g'
        ) as text_digits
    from {{ ref('int_walks_located') }}

)

select
    walk_texts.walk_key,
    gsm_numbers.gsm_digits
from walk_texts
inner join gsm_numbers
    on
        length(gsm_numbers.gsm_digits) >= 9
        and contains(walk_texts.text_digits, gsm_numbers.gsm_digits)
