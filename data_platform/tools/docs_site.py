"""The dbt documentation of every code location, as one static site served beside the Dagster UI.

``python -m data_platform.tools.docs_site build <folder>`` runs ``dbt docs generate --static``
for each registered dbt project and writes::

    <folder>/index.html                  one link per administration
    <folder>/<dbt project>/index.html    that project's dbt docs (manifest and catalog inlined)

``python -m data_platform.tools.docs_site serve [--build | --build-if-stale] [--dir D] [--host H]
[--port P]`` serves that
folder over HTTP (``make dev`` starts it beside ``dagster dev``; the compose stack runs it as
the ``dbt-docs`` service). Every dbt asset of the UI carries a ``dbt_docs`` link into it
(:func:`data_platform.translator.model_docs_url`), whose base is ``DATA_PLATFORM_DBT_DOCS_URL``.

The docs are generated with an empty catalog, in a throwaway warehouse: generating them never
opens the platform's DuckDB files, so it cannot collide with a running materialization. Column
names, descriptions and tests come from the dbt project's YAML, which documents every mart
column (a test checks it).
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from data_platform.lake import LAKE_ROOT_ENV
from data_platform.locations import LOCATIONS, CodeLocation
from data_platform.settings import REPO_ROOT, WAREHOUSE_DIR_ENV, dbt_executable

DEFAULT_SITE_DIR = REPO_ROOT / ".local" / "dbt_docs"


class DocsBuildError(RuntimeError):
    """``dbt docs generate`` failed for a dbt project (the message carries dbt's output)."""


def generate_project_docs(location: CodeLocation, site_dir: Path) -> Path:
    """Generate one dbt project's docs into ``<site_dir>/<dbt project>/index.html``.

    Args:
        location: the code location whose dbt project is documented.
        site_dir: root of the docs site.

    Returns:
        The written ``index.html`` (dbt's ``static_index.html``: one self-contained file).

    Raises:
        DocsBuildError: dbt failed; the message names the project and ends with dbt's output.
    """
    with tempfile.TemporaryDirectory(prefix=f"dbt-docs-{location.dbt_project}-") as scratch:
        scratch_dir = Path(scratch)
        env = {
            **os.environ,
            WAREHOUSE_DIR_ENV: str(scratch_dir / "warehouse"),
            LAKE_ROOT_ENV: str(scratch_dir / "lake"),
        }
        (scratch_dir / "warehouse").mkdir()
        result = subprocess.run(  # noqa: S603 - fixed command
            [
                dbt_executable(),
                "docs",
                "generate",
                "--static",
                "--empty-catalog",
                "--profiles-dir",
                str(location.dbt_project_dir),
                "--target-path",
                str(scratch_dir / "target"),
            ],
            cwd=location.dbt_project_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise DocsBuildError(
                f"dbt docs generate failed for {location.dbt_project} "
                f"({location.dbt_project_dir}):\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
            )
        target = site_dir / location.dbt_project / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(scratch_dir / "target" / "static_index.html", target)
    return target


def render_index(locations: tuple[CodeLocation, ...] = LOCATIONS) -> str:
    """Return the site's home page: one link per administration's dbt docs.

    Args:
        locations: the code locations listed.

    Returns:
        An HTML document (French, the analysts' language).
    """
    items = "\n".join(
        f'    <li><a href="{html.escape(loc.dbt_project)}/index.html">'
        f"{html.escape(loc.administration)}</a> — projet dbt <code>{html.escape(loc.dbt_project)}"
        f"</code>, emplacement de code <code>{html.escape(loc.name)}</code></li>"
        for loc in locations
    )
    return (
        '<!doctype html>\n<html lang="fr">\n<head><meta charset="utf-8">\n'
        "<title>Documentation dbt — plateforme de données FWB</title></head>\n<body>\n"
        "  <h1>Documentation dbt de la plateforme de données</h1>\n"
        "  <p>Modèles, sources, colonnes et tests de chaque administration.</p>\n"
        f"  <ul>\n{items}\n  </ul>\n</body>\n</html>\n"
    )


def build_site(site_dir: Path, locations: tuple[CodeLocation, ...] = LOCATIONS) -> list[Path]:
    """Build the whole docs site: every project's docs, then the index.

    Args:
        site_dir: output folder (created; existing project pages are replaced).
        locations: the code locations documented.

    Returns:
        The written pages, the index first.

    Raises:
        DocsBuildError: dbt failed for one project (the pages already written stay).
    """
    site_dir.mkdir(parents=True, exist_ok=True)
    pages = [generate_project_docs(location, site_dir) for location in locations]
    index = site_dir / "index.html"
    index.write_text(render_index(locations), encoding="utf-8")
    return [index, *pages]


def is_stale(site_dir: Path, locations: tuple[CodeLocation, ...] = LOCATIONS) -> bool:
    """Tell whether the site must be built again before it is served.

    Args:
        site_dir: root of the docs site.
        locations: the code locations documented.

    Returns:
        True when a project's page is missing or older than its ``target/manifest.json`` (the
        manifest changes whenever dbt parses a changed project), or when the index is missing.
    """
    index = site_dir / "index.html"
    if not index.exists():
        return True
    for location in locations:
        page = site_dir / location.dbt_project / "index.html"
        manifest = location.dbt_project_dir / "target" / "manifest.json"
        if not page.exists():
            return True
        if manifest.exists() and manifest.stat().st_mtime > page.stat().st_mtime:
            return True
    return False


def serve(site_dir: Path, host: str, port: int) -> None:
    """Serve ``site_dir`` over HTTP until interrupted.

    Args:
        site_dir: the built site.
        host: interface to bind (``127.0.0.1`` locally, ``0.0.0.0`` in a container).
        port: TCP port.
    """
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site_dir))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        print(f"dbt docs of every code location on http://{host}:{port}/", flush=True)
        server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    """Command line: ``build <folder>`` or ``serve [--build] [--dir] [--host] [--port]``.

    Returns:
        Process exit code: 0 on success, 1 when dbt failed (its output on stderr).
    """
    parser = argparse.ArgumentParser(prog="python -m data_platform.tools.docs_site")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="generate the docs of every dbt project")
    build.add_argument("site_dir", type=Path, nargs="?", default=DEFAULT_SITE_DIR)
    served = commands.add_parser("serve", help="serve the docs site over HTTP")
    served.add_argument("--dir", dest="site_dir", type=Path, default=DEFAULT_SITE_DIR)
    served.add_argument("--build", action="store_true", help="build the site first")
    served.add_argument(
        "--build-if-stale",
        action="store_true",
        help="build the site first only when a dbt manifest is newer than its page",
    )
    served.add_argument("--host", default="127.0.0.1")
    served.add_argument("--port", type=int, default=3001)
    args = parser.parse_args(argv)
    try:
        stale = args.command == "serve" and args.build_if_stale and is_stale(args.site_dir)
        if args.command == "build" or args.build or stale:
            for page in build_site(args.site_dir):
                print(f"wrote {page}", flush=True)
    except DocsBuildError as error:
        print(error, file=sys.stderr)
        return 1
    if args.command == "serve":
        serve(args.site_dir, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
