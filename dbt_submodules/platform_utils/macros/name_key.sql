{#-
    Normalised join key for free-text place names: lower-case, accents stripped,
    every run of non-alphanumeric characters replaced by a single space, trimmed.
    'Braine-l’Alleud' -> 'braine l alleud', 'Écaussinnes' -> 'ecaussinnes'.
-#}
{% macro name_key(column) -%}
    trim(regexp_replace(strip_accents(lower({{ column }})), '[^a-z0-9]+', ' ', 'g'))
{%- endmacro %}
