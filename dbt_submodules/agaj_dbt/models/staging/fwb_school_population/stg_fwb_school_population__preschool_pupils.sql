-- One row per line of preschool_quantity_FR.csv (see the macro for the rules).
{{ stg_fwb_pupil_counts('preschool_quantity_fr') }}
