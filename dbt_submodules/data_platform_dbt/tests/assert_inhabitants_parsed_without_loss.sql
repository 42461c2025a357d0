-- Inhabitants come as "14,304" (2018), "14 293" (2019, plain space) and "14427" (2020).
-- Every value must match its year's format, and the parsed integer must keep every digit
-- of the raw string (no digit lost, none added).
select
    commune_year_key,
    year,
    inhabitants_raw,
    inhabitants
from {{ ref('stg_belgian_municipalities__communes') }}
where
    inhabitants is null
    or inhabitants::varchar <> regexp_replace(inhabitants_raw, '[^0-9]', '', 'g')
    or not regexp_full_match(
        inhabitants_raw,
        case year
            when 2018 then '[1-9][0-9]{0,2}(,[0-9]{3})*'
            when 2019 then '[1-9][0-9]{0,2}( [0-9]{3})*'
            when 2020 then '[1-9][0-9]*'
        end
    )
