"""Write a synthetic, layered dbt-duckdb project of N models for ``benchmarks/bench.py``.

Layers as in the platform's projects: 20 % staging (views over seeds), 60 % intermediate in
four levels (tables, each model joining two models of the level below), 20 % marts (tables).
Every model has a ``unique`` and a ``not_null`` test on ``id``, except one in five that has
only ``not_null``: 1.8 dbt tests per model. One seed feeds five staging models.

Hand-written because no library generates dbt projects of a chosen shape; it is a few loops
writing text files.
"""

from __future__ import annotations

from pathlib import Path

PROJECT = "bench"
"""Name of every synthetic dbt project (``name:`` and profile), hence its asset key prefix."""

PROFILE = f"""{PROJECT}:
  target: local
  outputs:
    local:
      type: duckdb
      path: "{{{{ var('warehouse_dir', env_var('DATA_PLATFORM_WAREHOUSE_DIR', 'target'))
        }}}}/{PROJECT}.duckdb"
      threads: 2
"""

DBT_PROJECT = f"""name: {PROJECT}
version: "0.1.0"
config-version: 2
profile: {PROJECT}
models:
  {PROJECT}:
    staging:
      +materialized: view
    intermediate:
      +materialized: table
    marts:
      +materialized: table
"""


def layer_sizes(models: int) -> list[tuple[str, int]]:
    """Split ``models`` into the layers, lowest first.

    Returns:
        ``(folder, count)`` pairs: staging, four intermediate levels, marts; counts of at
        least 1 each that add up to ``models`` when ``models >= 6``.
    """
    staging = max(1, models // 5)
    level = max(1, (models * 3 // 5) // 4)
    marts = max(1, models - staging - 4 * level)
    return [("staging", staging), *[(f"int_{i}", level) for i in range(1, 5)], ("marts", marts)]


def write_project(directory: Path, models: int) -> Path:
    """Write the dbt project of ``models`` models into ``directory`` (created, files replaced).

    Args:
        directory: folder of the project; models, seeds and ``profiles.yml`` go inside.
        models: number of models, at least 6 for every layer to exist.

    Returns:
        ``directory``.
    """
    (directory / "seeds").mkdir(parents=True, exist_ok=True)
    (directory / "dbt_project.yml").write_text(DBT_PROJECT)
    (directory / "profiles.yml").write_text(PROFILE)
    rows = "".join(f"{i},{i * 7 % 100}\n" for i in range(20))
    below: list[str] = []
    for folder, count in layer_sizes(models):
        layer = "intermediate" if folder.startswith("int_") else folder
        path = directory / "models" / layer
        path.mkdir(parents=True, exist_ok=True)
        prefix = {"staging": "stg", "marts": "fct"}.get(folder, folder)
        names = [f"{prefix}_{i:05d}" for i in range(count)]
        tests = []
        for i, name in enumerate(names):
            if not below:  # staging: one seed per five models
                seed = f"seed_{i // 5:05d}"
                (directory / "seeds" / f"{seed}.csv").write_text("id,value\n" + rows)
                sql = f"select id, value from {{{{ ref('{seed}') }}}}\n"
            else:
                left, right = below[i % len(below)], below[(i * 7 + 1) % len(below)]
                sql = (
                    f"select a.id, a.value + coalesce(b.value, 0) as value\n"
                    f"from {{{{ ref('{left}') }}}} as a\n"
                    f"left join {{{{ ref('{right}') }}}} as b using (id)\n"
                )
            (path / f"{name}.sql").write_text(sql)
            checks = "[not_null]" if i % 5 == 4 else "[unique, not_null]"
            tests.append(
                f"  - name: {name}\n    columns:\n      - name: id\n        tests: {checks}\n"
            )
        (path / f"_{folder}.yml").write_text("version: 2\nmodels:\n" + "".join(tests))
        below = names
    return directory
