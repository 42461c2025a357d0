{% test no_personal_data_columns(model, forbidden_columns=['nom', 'prenom', 'gsm']) %}
{#- Fails (one row per offending column) if the model has a column whose name is one of the
    personal-data columns of the ADEPS walks: they must be dropped in staging. -#}
{%- set found = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- if column.name | lower in forbidden_columns -%}
            {%- do found.append(column.name | lower) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
{%- if found %}
select unnest(['{{ found | join("', '") }}']) as personal_data_column
{%- else %}
select null::varchar as personal_data_column
where false
{%- endif %}
{% endtest %}

{% test expression_is_true(model, expression, column_name=None) %}
{#- Returns the rows for which the SQL expression is not true (NULL counts as a failure). -#}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}

{% test is_nis_code(model, column_name) %}
{#- A NIS code is text of exactly 5 digits (leading zeros kept): returns the rows that are not. -#}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and not regexp_full_match({{ column_name }}, '[0-9]{5}')
{% endtest %}

{% test has_no_phone_number(model, column_name) %}
{#- Returns the rows whose free text still contains something that looks like a Belgian phone number. -#}
select {{ column_name }}
from {{ model }}
where regexp_matches({{ column_name }}, '(\+32|0)[1-9]([ ./-]?[0-9]){7,8}')
{% endtest %}

{% test row_count_equals(model, expected) %}
{#- Fails when the model does not hold exactly `expected` rows. -#}
select count(*) as actual_rows
from {{ model }}
having count(*) <> {{ expected }}
{% endtest %}
