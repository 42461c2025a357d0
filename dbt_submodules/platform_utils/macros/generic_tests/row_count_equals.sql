{#- Fails (one row) when the model does not hold exactly `expected` rows. -#}
{% test row_count_equals(model, expected) %}

select
    count(*) as actual_rows,
    {{ expected }} as expected_rows
from {{ model }}
having count(*) <> {{ expected }}

{% endtest %}
