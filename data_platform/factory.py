"""The one factory that turns a registered code location into Dagster definitions.

An administration's ``definitions.py`` is three lines that call :func:`location_definitions`
with its location name; everything else (dbt project, manifest, translator, raw assets, dbt
tests as asset checks, resources) is decided here, identically for every location.
"""

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.dbt_project import DagsterDbtProjectPreparer
from dagster_dbt.errors import DagsterDbtCliRuntimeError
from dagster_shared.record import replace

from data_platform.alerting import build_notification_sensors
from data_platform.automation import automation_definitions
from data_platform.dbt_metadata import stream_with_metadata
from data_platform.dbt_profile import (
    PROFILE,
    TARGET_PATH,
    DbtSettings,
    is_prepared,
    record_preparation,
    write_profile,
)
from data_platform.freshness import apply_freshness_policies
from data_platform.health import check_instance_environment
from data_platform.lake import PUBLISHED_MARTS, mart_parts
from data_platform.locations import LOCATIONS, CodeLocation, get_location
from data_platform.notifications import NotificationChannels
from data_platform.publish import external_marts, publish_tested_marts
from data_platform.raw import build_raw_assets
from data_platform.retries import TRANSIENT_RETRY, final_on
from data_platform.settings import PlatformStorage
from data_platform.step_process import end_with_run_worker, ending_with_step
from data_platform.translator import PlatformDbtTranslator


class ManifestError(RuntimeError):
    """A code location's dbt manifest is missing or cannot be read."""


class PlatformPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer, with the platform's ``--vars`` on ``dbt deps`` as on ``dbt parse``.

    Stock ``dbt deps`` runs with no ``--vars``, so dagster-dbt cannot render the platform's
    profile (its paths are vars) and logs a traceback before every preparation of a project
    with packages (the local ``platform_utils`` of every project). Only that call changes.
    """

    def __init__(self, settings: DbtSettings) -> None:
        """Prepare with ``settings``' ``parse`` arguments, and its ``--vars`` on ``deps``."""
        super().__init__(prepare_project_cli_args=settings.parse_arguments())
        self._deps_arguments = ["deps", "--quiet", *settings.vars_arguments()]

    def _prepare_packages(self, project: DbtProject) -> None:
        DbtCliResource(project_dir=project).cli(
            self._deps_arguments, target_path=project.target_path
        ).wait()


def platform_dbt_project(project_dir: Path, settings: DbtSettings) -> DbtProject:
    """Return a dbt project as the platform runs it: with the platform's profile and target.

    The platform's ``profiles.yml`` (:mod:`data_platform.dbt_profile`) is written into the
    project's ``target/`` folder first; the project's own ``profiles.yml``, if any, is not read.
    The manifest's preparation parses with the same target and ``--vars`` as the runs.

    Args:
        project_dir: the dbt project's folder, anywhere on disk.
        settings: the target and ``--vars`` of its invocations.

    Raises:
        OSError: the project's ``target/`` folder cannot be written.
        dagster_dbt.errors.DagsterDbtProjectNotFoundError: no such project folder.
    """
    project = DbtProject(
        project_dir=project_dir,
        target_path=TARGET_PATH,
        profiles_dir=write_profile(project_dir, settings.dbt_project_name),
        profile=PROFILE,
        target=settings.target,
    )
    return replace(project, preparer=PlatformPreparer(settings))


@functools.cache
def dbt_project(location_name: str) -> DbtProject:
    """Return the (cached) :class:`DbtProject` of a registered code location.

    The manifest is ``target/manifest.json`` in the dbt project folder. It is prepared on the fly
    only under ``dagster dev`` (when its project changed, :func:`prepare`); everywhere else it
    must have been prepared ahead (``make prepare``, the test session, the Docker build).

    Raises:
        KeyError: the location is not registered.
    """
    location = get_location(location_name)
    settings = DbtSettings.from_environment(location.dbt_project)
    return platform_dbt_project(location.dbt_project_dir, settings)


def prepare(project: DbtProject, settings: DbtSettings) -> bool:
    """Prepare a dbt project's manifest (``dbt deps`` if needed, ``dbt parse``) if it changed.

    Skipped when the manifest was prepared from the same files and settings
    (:func:`~data_platform.dbt_profile.is_prepared`).

    Args:
        project: the project, from :func:`platform_dbt_project` with the same ``settings``.
        settings: its target and ``--vars``.

    Returns:
        True when dbt ran, False when the manifest was up to date.

    Raises:
        dagster_dbt.errors.DagsterDbtCliRuntimeError: dbt cannot parse the project.
    """
    if is_prepared(project.project_dir, settings):
        return False
    project.preparer.prepare(project)
    record_preparation(project.project_dir, settings)
    return True


def prepare_manifest(location_name: str) -> bool:
    """Prepare the location's dbt manifest now, unless it is up to date (:func:`prepare`).

    Returns:
        True when dbt ran, False when the manifest was up to date.

    Raises:
        KeyError: the location is not registered.
        dagster_dbt.errors.DagsterDbtCliRuntimeError: dbt cannot parse the project.
    """
    location = get_location(location_name)
    settings = DbtSettings.from_environment(location.dbt_project)
    return prepare(platform_dbt_project(location.dbt_project_dir, settings), settings)


def load_manifest(location: CodeLocation, project: DbtProject) -> dict[str, Any]:
    """Read and check the location's ``manifest.json``.

    Args:
        location: the code location (named in the error).
        project: its dbt project.

    Returns:
        The manifest as a dictionary.

    Raises:
        ManifestError: the file is missing, is not JSON, or is not a dbt manifest; the message
            names the location, the path and how to rebuild it.
    """
    path = project.manifest_path
    hint = f"rebuild it with `make prepare` (dbt parse in {project.project_dir})"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ManifestError(
            f"Code location {location.name!r}: dbt manifest {path} does not exist; {hint}"
        ) from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ManifestError(
            f"Code location {location.name!r}: dbt manifest {path} is not valid JSON ({error});"
            f" {hint}"
        ) from error
    if not isinstance(manifest, Mapping) or not {"nodes", "sources", "metadata"} <= manifest.keys():
        raise ManifestError(
            f"Code location {location.name!r}: {path} is not a dbt manifest"
            f" (no nodes/sources/metadata); {hint}"
        )
    return dict(manifest)


class MissingUpstreamError(dg.Failure):
    """A run needs a mart another location publishes, and that mart was never materialized."""


def check_published_upstream(
    context: dg.AssetExecutionContext, location: CodeLocation, storage: PlatformStorage
) -> None:
    """Stop the run at once when a mart of another location it reads is not in the lake.

    The selected dbt models read the marts other locations publish as Parquet files
    (``<lake>/marts/<publisher>/<table>.parquet``, sources with ``meta.published_by``); dbt
    would fail deep in the run on the first missing one, after building other models.

    Args:
        context: the dbt asset's execution context (its selected assets and their upstream).
        location: the location running.
        storage: the lake.

    Raises:
        MissingUpstreamError: naming each missing upstream asset key and the code location that
            builds it (materialize it there first, e.g. with its job ``<project>_marts``).
    """
    lake = storage.lake()
    publishers = {other.dbt_project: other.name for other in LOCATIONS if other != location}
    upstream = {
        dep
        for key in context.selected_asset_keys
        for dep in context.assets_def.asset_deps.get(key, ())
        if dep.path[0] in publishers and len(dep.path) == 2
    }
    missing = []
    for dep in sorted(upstream, key=lambda key: key.to_user_string()):
        publisher, table = dep.path
        published = mart_parts(PUBLISHED_MARTS, publisher, table)
        if not lake.filesystem.exists(lake.fs_path(*published)):
            builder = publishers[publisher]
            missing.append(
                f"{dep.to_user_string()} (built by the code location {builder};"
                f" expected at {lake.display(*published)})"
            )
    if missing:
        raise MissingUpstreamError(
            allow_retries=False,  # they will not appear by themselves: no retry
            description=(
                f"{location.name}: the selected assets read upstream assets that were never"
                " materialized: " + "; ".join(missing) + ". Materialize them in their code"
                " location first (its job <project>_marts), then run this again."
            ),
        )


def seeds_read_through_sources(manifest: Mapping[str, Any]) -> set[str]:
    """Return the seeds that a dbt source of the project points at (database, schema, table).

    A model that reads a seed through ``source()`` rather than ``ref()`` (as dbt's own example
    projects do) is not ordered after the seed by dbt: ``dbt build`` may run it first, on a
    missing or stale table. The platform builds such seeds in a ``dbt seed`` of their own first.

    Args:
        manifest: the project's ``manifest.json``.

    Returns:
        The seeds' unique ids.
    """

    def relation(resource: Mapping[str, Any], name_key: str) -> tuple[str, ...]:
        parts = (resource.get("database"), resource.get("schema"), resource.get(name_key))
        return tuple(str(part or "").lower() for part in parts)

    seeds = {
        relation(node, "alias"): unique_id
        for unique_id, node in manifest["nodes"].items()
        if node.get("resource_type") == "seed"
    }
    read = {relation(source, "identifier") for source in manifest["sources"].values()}
    return {unique_id for key, unique_id in seeds.items() if key in read}


def build_location_definitions(location_name: str) -> dg.Definitions:
    """Build the Dagster definitions of one registered code location.

    Args:
        location_name: a name registered in :data:`data_platform.locations.LOCATIONS`,
            e.g. ``"ags_project"``.

    Returns:
        Definitions holding the location's raw assets, its dbt assets (``dbt build``, streaming
        row counts and column metadata; dbt tests become asset checks), with the freshness
        policies of the raw and mart layers, the ``dbt``, ``storage``
        (:class:`~data_platform.settings.PlatformStorage`) and ``notifications``
        (:class:`~data_platform.notifications.NotificationChannels`) resources, read from the
        environment now, the
        sensors that notify the administration of failed runs and checks.

    Raises:
        KeyError: the location is not registered.
        ManifestError: its dbt manifest is missing or broken (the other locations, loaded by
            their own processes, are unaffected).
        data_platform.health.MissingVariableError: a variable the instance file reads is unset.
    """
    check_instance_environment(location_name)  # a missing variable is named now, not per run
    location = get_location(location_name)
    return definitions_of(location, location.dbt_project_dir)


def definitions_of(location: CodeLocation, project_dir: Path) -> dg.Definitions:
    """Build the definitions of ``location`` from the dbt project in ``project_dir``.

    The body of :func:`build_location_definitions`, open to a location that is not registered
    (``benchmarks/bench.py`` builds synthetic dbt projects with it). The project runs with the
    platform's profile (:func:`platform_dbt_project`): its own ``profiles.yml`` is not needed.

    Args:
        location: the code location (asset keys, groups, owner, notifications); its
            :attr:`~data_platform.locations.CodeLocation.dbt_project` is the project's ``name:``.
        project_dir: the folder of its dbt project, anywhere on disk.

    Returns:
        As :func:`build_location_definitions`.

    Raises:
        ManifestError: the project's manifest is missing or broken.
    """
    settings = DbtSettings.from_environment(location.dbt_project)
    project = platform_dbt_project(project_dir, settings)
    if project.preparer.using_dagster_dev():
        prepare(project, settings)
    manifest = load_manifest(location, project)
    translator = PlatformDbtTranslator(location, project)
    marts = external_marts(manifest, translator)
    seeds_first = {
        translator.get_asset_key(manifest["nodes"][unique_id])
        for unique_id in seeds_read_through_sources(manifest)
    }

    @dbt_assets(
        manifest=manifest,
        project=project,
        dagster_dbt_translator=translator,
        name=f"{location.dbt_project}_dbt_assets",
        # One dbt run at a time per DuckDB file: DuckDB allows a single writer.
        pool=f"duckdb_{location.dbt_project}",
        retry_policy=TRANSIENT_RETRY,
    )
    def _dbt_assets(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, storage: PlatformStorage
    ) -> Iterator[Any]:
        check_published_upstream(context, location, storage)
        storage_arguments = storage.dbt_arguments(location.dbt_project)
        # dbt unit tests prove the models' logic on hand-made rows: they run in development and
        # CI (tests/test_dbt_unit_tests.py), not in production runs, as dbt recommends
        # (https://docs.getdbt.com/docs/build/unit-tests). Row counts and column schemas are
        # fetched in one batch once dbt has exited, and what dbt built is recorded even when it
        # fails midway (data_platform/dbt_metadata.py). Marts are written to the lake's staging
        # folder and published once tested (data_platform/publish.py).
        end_with_run_worker()  # a crashed run worker interrupts this step (step_process.py)

        def run_dbt(arguments: list[str]) -> Iterator[Any]:
            invocation = dbt.cli(arguments, context=context)
            with ending_with_step(invocation.process):  # no dbt outlives the step
                yield from publish_tested_marts(
                    context,
                    stream_with_metadata(invocation),
                    storage.lake(),
                    location.dbt_project,
                    marts,
                )

        build = ["build", "--exclude-resource-type", "unit_test", *storage_arguments]
        with final_on(DagsterDbtCliRuntimeError):  # a model or a test failed: not retried
            if seeds_first and seeds_first & context.selected_asset_keys:
                # Some models read seeds through a source, which dbt does not order: seeds first.
                yield from run_dbt(["seed", *storage_arguments])
                build += ["--exclude-resource-type", "seed"]
            yield from run_dbt(build)

    raw_assets = build_raw_assets(manifest, translator, location)
    raw_patterns = {
        asset.key: list(asset.metadata_by_key[asset.key]["raw_files"]) for asset in raw_assets
    }
    own = dg.Definitions(
        assets=apply_freshness_policies([*raw_assets, _dbt_assets]),
        resources={
            "dbt": DbtCliResource(project_dir=project),
            "storage": PlatformStorage.from_environment(),
            "notifications": NotificationChannels.from_environment(location),
        },
        sensors=build_notification_sensors(location),
    )
    return dg.Definitions.merge(own, automation_definitions(location, raw_patterns))


@functools.cache
def location_definitions(location_name: str) -> dg.Definitions:
    """Return the definitions of a registered code location, built once per process.

    A code location's ``@dg.definitions`` function is evaluated twice each time Dagster loads
    it (once to find the definitions in the module, once to load them; measured with
    ``dagster definitions validate``), and each evaluation would read the manifest and build
    every asset again: the code locations call this cached form, the tests the uncached
    :func:`build_location_definitions`. A reload in the UI starts a new process, so it reads
    the manifest again.

    Args:
        location_name: a registered code location's name, e.g. ``"ags_project"``.

    Returns:
        The same :class:`dagster.Definitions` object on every call in this process.

    Raises:
        KeyError, ManifestError: as :func:`build_location_definitions` (not cached).
    """
    return build_location_definitions(location_name)
