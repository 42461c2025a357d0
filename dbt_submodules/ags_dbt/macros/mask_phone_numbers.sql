{% macro mask_phone_numbers(column_name) -%}
    {#- Free text of the ADEPS walks sometimes carries a phone number (e.g. 'Infos au 0472/85.93.45'):
        a Belgian number (0 then 8 or 9 digits, separated by spaces, dots, slashes or dashes) is
        replaced by '[numéro masqué]' so that no phone number leaves staging. -#}
    regexp_replace(
        {{ column_name }},
        '(\+32|0)[1-9]([ ./-]?[0-9]){7,8}',
        '[numéro masqué]',
        'g'
    )
{%- endmacro %}
