{#- A Belgian postcode is text of exactly 4 digits: fails with every value that is not. -#}
{% test is_postcode(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and not regexp_full_match({{ column_name }}, '[0-9]{4}')

{% endtest %}
