"""`cybernorms dashboard`: start the Solara dashboard, or install its front-end assets.

    cybernorms dashboard [SCENARIO] [--host 127.0.0.1] [--port 8765]
    cybernorms dashboard --install-assets     # once, so the page works offline
    cybernorms dashboard --check-assets       # exit status 1 if assets are missing

(`python -m sim.dashboard ...` does the same.) The server listens on 127.0.0.1 unless
told otherwise. Before it starts, the front-end assets are checked: if they are not
installed locally and the CDN cannot be reached, the command says which command
installs them, instead of serving a page that stays blank. With network access the
page works without that step (Solara fetches and caches the assets on first load).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.errors import InputError

APP = Path(__file__).with_name("app.py")
INSTALL_COMMAND = "cybernorms dashboard --install-assets"


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("scenario", nargs="?", default=None,
                        help="scenario file or shipped scenario name to open "
                             "(default: paris_call_2018); the page lists all shipped ones")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    parser.add_argument("--install-assets", action="store_true",
                        help="fetch Solara's front-end assets with npm into this environment, "
                             "so the dashboard works offline, then exit")
    parser.add_argument("--check-assets", action="store_true",
                        help="report whether the front-end assets are installed locally; "
                             "exit status 1 if any is missing")
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")
    return parser


def _prepare_environment(scenario: str | None) -> None:
    """Settings Solara reads when it is imported, so set before any import of solara."""
    # serve assets through the local proxy (and so from the installed copies) even where
    # Solara would not by default (VS Code terminals)
    os.environ.setdefault("SOLARA_ASSETS_PROXY", "true")
    # no usage statistics sent to solara.dev from a research workstation
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    if scenario:
        from sim.dashboard.controls import SCENARIO_ENV

        os.environ[SCENARIO_ENV] = scenario


def install_assets() -> int:
    from sim.dashboard import assets as dashboard_assets

    directory = dashboard_assets.cache_dir()
    try:
        installed = dashboard_assets.install(directory=directory)
    except (RuntimeError, OSError) as exc:
        print(f"error: could not install the dashboard's assets: {exc}", file=sys.stderr)
        return 1
    packages = dashboard_assets.required_packages()
    print(f"{'installed' if installed else 'already installed'}: "
          f"{', '.join(map(str, installed or packages))}\nin {directory}")
    return 0


def check_assets() -> int:
    from sim.dashboard import assets as dashboard_assets

    missing = dashboard_assets.missing_packages()
    directory = dashboard_assets.cache_dir()
    if missing:
        print(f"missing in {directory}: {', '.join(map(str, missing))}\n"
              f"install them with: {INSTALL_COMMAND}")
        return 1
    print(f"all front-end assets installed in {directory}")
    return 0


def assets_ready() -> bool:
    """True if the page can load its assets (installed, or the CDN answers); else explain."""
    from sim.dashboard import assets as dashboard_assets

    missing = dashboard_assets.missing_packages()
    if not missing:
        return True
    if dashboard_assets.cdn_reachable():
        print(f"note: front-end assets not installed locally; they are fetched from the CDN "
              f"and cached on first load. To work offline later, run: {INSTALL_COMMAND}")
        return True
    print(f"error: the dashboard's front-end assets are not installed and the CDN cannot be "
          f"reached, so the page would stay blank.\n"
          f"missing: {', '.join(map(str, missing))}\n"
          f"install them (once, with network access to the npm registry): {INSTALL_COMMAND}",
          file=sys.stderr)
    return False


def main(args: argparse.Namespace) -> int:
    """Start the server (blocks until stopped), or install / check the assets."""
    _prepare_environment(args.scenario)
    if args.install_assets:
        return install_assets()
    if args.check_assets:
        return check_assets()
    if args.scenario:
        from sim.dashboard.controls import file_spec

        file_spec(args.scenario)  # a bad scenario fails here, with file and field named
    if not assets_ready():
        return 1
    import click
    from solara.__main__ import run

    options = [str(APP), "--host", args.host, "--port", str(args.port), "--production",
               "--theme-loader", "plain", "--open" if args.open else "--no-open"]
    try:
        run.main(args=options, standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):  # Ctrl-C is how a server stops
        print("\ndashboard stopped", file=sys.stderr)
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    """`python -m sim.dashboard`: the same as `cybernorms dashboard`."""
    parser = configure_parser(argparse.ArgumentParser(
        prog="python -m sim.dashboard",
        description="Interactive dashboard of the cybernorms model (Solara)."))
    try:
        return main(parser.parse_args(argv))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
