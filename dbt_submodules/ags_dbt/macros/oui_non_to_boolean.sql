{% macro oui_non_to_boolean(column_name) -%}
    {#- ADEPS flags are the strings 'Oui' / 'Non'; anything else becomes NULL (caught by not_null tests). -#}
    case {{ column_name }} when 'Oui' then true when 'Non' then false end
{%- endmacro %}
