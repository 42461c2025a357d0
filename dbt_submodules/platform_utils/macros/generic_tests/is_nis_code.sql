{#- A NIS code is text of exactly 5 digits (leading zeros kept): fails with every value that is not. -#}
{% test is_nis_code(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and not regexp_full_match({{ column_name }}, '[0-9]{5}')

{% endtest %}
