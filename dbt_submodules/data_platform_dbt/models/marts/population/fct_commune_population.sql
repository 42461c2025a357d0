with

yearly_communes as (

    select * from {{ ref('stg_belgian_municipalities__communes') }}

),

nis_codes as (

    select * from {{ ref('int_nis_codes_resolved') }}

),

-- joined on the NIS code only: a join on the French name would fan out on
-- "Saint-Nicolas" (46021 Sint-Niklaas and 62093 Saint-Nicolas)
final as (

    select
        yearly_communes.commune_year_key,
        yearly_communes.year,
        yearly_communes.nis_code,
        nis_codes.current_nis_code,
        yearly_communes.name_fr,
        yearly_communes.inhabitants,
        yearly_communes.name_nl
    from yearly_communes
    left join nis_codes
        on yearly_communes.nis_code = nis_codes.nis_code

)

select * from final
