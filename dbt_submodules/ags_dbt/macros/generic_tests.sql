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

{% test has_no_phone_number(model, column_name) %}
{#- Returns the rows whose free text still contains something that looks like a Belgian phone number. -#}
select {{ column_name }}
from {{ model }}
where regexp_matches({{ column_name }}, '(\+32|0)[1-9]([ ./-]?[0-9]){7,8}')
{% endtest %}

