"""The dbt docs of every code location, as one static site served beside the Dagster UI.

``python -m data_platform.tools.docs_site build [<folder>]`` writes ``<folder>/<dbt
project>/index.html`` (dbt's own ``dbt docs generate --static``: one self-contained page) and
``<folder>/index.html``, one link per administration. ``... serve [--build-if-stale] [--dir D]
[--host H] [--port P]`` serves the folder with the standard library's ``http.server``
(``make dev``; the ``dbt-docs`` service of the compose stack). Every dbt asset links into it
(:func:`data_platform.translator.model_docs_url`).

Hand-written, because dbt documents one project per site and neither dbt nor Dagster builds
the index, nor rebuilds only a stale site. The docs are generated with an empty catalog in a
throwaway warehouse, so generating them never opens (nor locks) the platform's DuckDB files.
"""

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
from data_platform.tools import install_dbt_packages

DEFAULT_SITE_DIR = REPO_ROOT / ".local" / "dbt_docs"


def generate_project_docs(location: CodeLocation, site_dir: Path) -> Path:
    """Write ``<site_dir>/<dbt project>/index.html``; raise ``CalledProcessError`` if dbt fails."""
    install_dbt_packages(location.dbt_project_dir)
    with tempfile.TemporaryDirectory() as scratch:  # warehouse, lake root and target path
        command = ["docs", "generate", "--static", "--empty-catalog", "--target-path", scratch]
        subprocess.run(
            [dbt_executable(), *command, "--profiles-dir", "."],
            cwd=location.dbt_project_dir,
            env={**os.environ, WAREHOUSE_DIR_ENV: scratch, LAKE_ROOT_ENV: scratch},
            capture_output=True,
            text=True,
            check=True,
        )
        target = site_dir / location.dbt_project / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(scratch) / "static_index.html", target)
    return target


def render_index() -> str:
    """Return the site's home page (French, the analysts' language): one link per project."""
    items = "\n".join(
        f'    <li><a href="{html.escape(loc.dbt_project)}/index.html">'
        f"{html.escape(loc.administration)}</a> — projet dbt <code>{html.escape(loc.dbt_project)}"
        f"</code>, emplacement de code <code>{html.escape(loc.name)}</code></li>"
        for loc in LOCATIONS
    )
    return (
        '<!doctype html>\n<html lang="fr">\n<head><meta charset="utf-8">\n'
        "<title>Documentation dbt — plateforme de données FWB</title></head>\n<body>\n"
        "  <h1>Documentation dbt de la plateforme de données</h1>\n"
        "  <p>Modèles, sources, colonnes et tests de chaque administration.</p>\n"
        f"  <ul>\n{items}\n  </ul>\n</body>\n</html>\n"
    )


def build_site(site_dir: Path) -> list[Path]:
    """Build every project's docs into ``site_dir``, then the index; return the pages written.

    Raises:
        subprocess.CalledProcessError: dbt failed for one project (pages written stay).
    """
    pages = [generate_project_docs(location, site_dir) for location in LOCATIONS]
    index = site_dir / "index.html"
    index.write_text(render_index(), encoding="utf-8")
    return [index, *pages]


def is_stale(site_dir: Path) -> bool:
    """Tell whether the index or a project's page is missing, or older than its manifest.

    A project's ``target/manifest.json`` changes whenever dbt parses a changed project.
    """
    pages = [(site_dir / loc.dbt_project / "index.html", loc) for loc in LOCATIONS]
    return not (site_dir / "index.html").exists() or any(
        not page.exists()
        or (manifest := location.dbt_project_dir / "target" / "manifest.json").exists()
        and manifest.stat().st_mtime > page.stat().st_mtime
        for page, location in pages
    )


def main(argv: list[str] | None = None) -> int:
    """Command line (``--help``); returns 0, or 1 when dbt failed (its output on stderr)."""
    parser = argparse.ArgumentParser(prog="python -m data_platform.tools.docs_site")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="generate the docs of every dbt project")
    build.add_argument("site_dir", type=Path, nargs="?", default=DEFAULT_SITE_DIR)
    served = commands.add_parser("serve", help="serve the docs site over HTTP")
    served.add_argument("--dir", dest="site_dir", type=Path, default=DEFAULT_SITE_DIR)
    served.add_argument("--build-if-stale", action="store_true", help="build it if stale")
    served.add_argument("--host", default="127.0.0.1")
    served.add_argument("--port", type=int, default=3001)
    args = parser.parse_args(argv)
    stale = args.command == "serve" and args.build_if_stale and is_stale(args.site_dir)
    try:
        if args.command == "build" or stale:
            for page in build_site(args.site_dir):
                print(f"wrote {page}", flush=True)
    except subprocess.CalledProcessError as error:
        print(f"{error.cmd} failed:\n{error.stdout[-4000:]}{error.stderr[-2000:]}", file=sys.stderr)
        return 1
    if args.command == "serve":
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=args.site_dir)
        with http.server.ThreadingHTTPServer((args.host, args.port), handler) as server:
            print(f"dbt docs of every code location on http://{args.host}:{args.port}/", flush=True)
            server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
