{#- Fails with every non-null value that does not fully match the regular expression. -#}
{% test matches_regex(model, column_name, regex) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and not regexp_full_match({{ column_name }}::varchar, '{{ regex }}')

{% endtest %}
