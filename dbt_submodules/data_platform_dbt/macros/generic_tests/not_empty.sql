{#- Fails (one row) when the model is empty. -#}
{% test not_empty(model) %}

select count(*) as actual_rows
from {{ model }}
having count(*) = 0

{% endtest %}
