{#-
    Fails with every row for which the SQL boolean expression is not true
    (false or null). Usable on a model or on a column.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
