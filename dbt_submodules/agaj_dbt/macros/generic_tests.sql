{% test is_nis_code(model, column_name) %}
-- A NIS code is text of exactly 5 digits (leading zeros kept): returns the rows that are not.
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and not regexp_full_match({{ column_name }}, '[0-9]{5}')
{% endtest %}

{% test is_non_negative(model, column_name) %}
-- Returns the rows whose value is negative.
select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0
{% endtest %}

{% test is_between(model, column_name, min_value, max_value) %}
-- Returns the rows whose value lies outside [min_value, max_value].
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}

{% test is_postcode(model, column_name) %}
-- A Belgian postcode is text of exactly 4 digits: returns the rows that are not.
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and not regexp_full_match({{ column_name }}, '[0-9]{4}')
{% endtest %}
