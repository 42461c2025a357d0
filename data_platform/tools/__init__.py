"""The tooling around the platform: command line, slim CI, dbt docs site, workspace files.

Nothing here is imported by a code location: a code server loads only the definitions side of
:mod:`data_platform` (factory, translator, raw assets, lake, sensors).
"""
