{% macro name_key(expression) -%}
    {#- Same normalisation as data_platform's dim_communes.name_key: lower case, accents stripped,
        every run of non-alphanumeric characters replaced by one space, trimmed. -#}
    trim(regexp_replace(lower(strip_accents({{ expression }})), '[^a-z0-9]+', ' ', 'g'))
{%- endmacro %}
