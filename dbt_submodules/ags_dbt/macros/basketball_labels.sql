{% macro strip_handicap(label) -%}
    {#- Cup fixtures append the handicap to the team: 'RBC WELKENRAEDT B (+ 15)', 'UBC BINCHE (+ 5 )',
        and the label is sometimes cut at 24 characters: 'RBC DISON-ANDRIMONT B ('. Drop it. -#}
    trim(regexp_replace({{ label }}, '\s*\(.*$', ''))
{%- endmacro %}

{% macro handicap_points(label) -%}
    {#- The handicap of a complete '(+ N)' suffix; NULL when absent or cut. -#}
    cast(nullif(regexp_extract({{ label }}, '\(\s*\+\s*([0-9]+)\s*\)$', 1), '') as integer)
{%- endmacro %}

{% macro team_club_name(label) -%}
    {#- The club part of a team: handicap and final team letter dropped ('ROYAL BC NINANE C' ->
        'ROYAL BC NINANE'). -#}
    regexp_replace({{ strip_handicap(label) }}, '\s+[A-Z]$', '')
{%- endmacro %}
