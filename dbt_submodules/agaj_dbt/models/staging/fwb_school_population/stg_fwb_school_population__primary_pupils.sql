-- One row per line of primary_quantity_FR.csv (see the macro for the rules).
{{ stg_fwb_pupil_counts('primary_quantity_fr') }}
