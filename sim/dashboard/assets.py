"""Solara's front-end assets, installed locally so the dashboard works offline.

A Solara page loads its JavaScript and CSS (the Vuetify app, requirejs, Font Awesome, the
grid layout) from a CDN: Solara's server proxies ``/_solara/cdn/<package>@<version>/...``
to jsDelivr and caches each file under ``<prefix>/share/solara/cdn/`` (the installed
solara's `settings.assets.proxy_cache_dir`). With no network and an empty cache the page
stays blank. `install` fills that cache ahead of time: it reads which npm packages and
versions the installed solara asks for (its page templates, its Vue widgets and its
Font Awesome setting, so the list follows solara upgrades), fetches each with
``npm pack`` and unpacks it where the proxy looks first. Only exact versions are
installed: a range such as ``vega@5`` (used only by Altair charts, which the dashboard
does not draw) is left to the proxy.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

#: where a page or widget names a CDN file: {{cdn}}/<spec>/... or ${this.getCdn()}/<spec>/...
CDN_REFERENCE = re.compile(
    r"(?:\{\{\s*cdn\s*\}\}|\$\{\s*this\.getCdn\(\)\s*\}|^)/"
    r"(?P<name>(?:@[\w.-]+/)?[\w.-]+)@(?P<version>[^/\s'\"`{}]+)/", re.M)
#: an exact npm version (npm never republishes one, so its files never change)
EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+(?:[-+][\w.]+)?$")
#: a file in a complete install (the proxy caches single files, never package.json)
MARKER = "package.json"


@dataclass(frozen=True, order=True)
class Package:
    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


def cdn_references(text: str) -> set[Package]:
    """Packages with an exact version named by CDN urls in a template or widget source."""
    return {Package(m["name"], m["version"]) for m in CDN_REFERENCE.finditer(text)
            if EXACT_VERSION.match(m["version"])}


def solara_sources() -> list[Path]:
    """The installed solara's files that name CDN assets: page templates and Vue widgets."""
    import solara

    root = Path(solara.__file__).parent
    found = [*sorted((root / "server" / "templates").glob("*")),
             *sorted((root / "widgets" / "vue").glob("*.vue")),
             *sorted((root / "components").glob("*.vue"))]
    return [path for path in found if path.is_file()]


def required_packages(sources: Iterable[Path] | None = None,
                      fontawesome_path: str | None = None) -> list[Package]:
    """Every package@version the installed solara's page and widgets load from the CDN."""
    if fontawesome_path is None:
        import solara.server.settings

        fontawesome_path = solara.server.settings.assets.fontawesome_path
    found = cdn_references(fontawesome_path)
    for path in solara_sources() if sources is None else sources:
        found |= cdn_references(path.read_text(encoding="utf-8", errors="replace"))
    return sorted(found)


def cache_dir() -> Path:
    """Where the installed solara's CDN proxy reads and writes asset files."""
    import solara.server.settings

    return Path(solara.server.settings.assets.proxy_cache_dir)


def is_installed(package: Package, directory: Path) -> bool:
    return (directory / str(package) / MARKER).is_file()


def missing_packages(directory: Path | None = None,
                     packages: Iterable[Package] | None = None) -> list[Package]:
    directory = cache_dir() if directory is None else directory
    packages = required_packages() if packages is None else packages
    return [p for p in packages if not is_installed(p, directory)]


def proxy_enabled() -> bool:
    """Whether pages load assets through the local proxy (off in Colab, VS Code, Voila)."""
    import solara.settings

    return bool(solara.settings.assets.proxy)


def unpack(tarball: Path, target: Path) -> None:
    """Unpack an npm tarball (files under one top folder, usually package/) into `target`.

    The package is unpacked beside `target` and renamed into place, so a failed or
    interrupted install never leaves a half-filled folder that looks complete.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if len(parts) < 2 or not (member.isfile() or member.isdir()):
                    continue
                member.name = str(Path(*parts[1:]))  # drop the top folder
                archive.extract(member, staging, filter="data")
        if not (staging / MARKER).is_file():
            raise RuntimeError(f"{tarball.name} holds no {MARKER}: not an npm package")
        if target.exists():
            shutil.rmtree(target)  # files the proxy cached one by one
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def npm_pack(package: Package, directory: Path, npm: str = "npm") -> Path:
    """Download one package tarball from the npm registry with `npm pack`."""
    done = subprocess.run([npm, "pack", str(package), "--json", "--pack-destination",
                           str(directory)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"npm pack {package} failed:\n{done.stderr.strip()}")
    return directory / json.loads(done.stdout)[0]["filename"]


def install(packages: Iterable[Package] | None = None, directory: Path | None = None,
            npm: str = "npm", log: Callable[[str], None] = print) -> list[Package]:
    """Fetch and unpack every missing package; return those installed now."""
    directory = cache_dir() if directory is None else directory
    todo = missing_packages(directory, packages)
    if todo and shutil.which(npm) is None:
        raise RuntimeError(f"`{npm}` was not found: install Node.js (npm) to fetch "
                           f"{', '.join(map(str, todo))}")
    with tempfile.TemporaryDirectory(prefix="solara-assets-") as downloads:
        for package in todo:
            log(f"fetching {package}")
            unpack(npm_pack(package, Path(downloads), npm), directory / str(package))
    return todo


def cdn_reachable(timeout: float = 3.0) -> bool:
    """Whether the CDN Solara falls back on answers (for the missing-assets message)."""
    import requests
    import solara.settings

    try:
        return requests.head(str(solara.settings.assets.cdn), timeout=timeout).status_code < 500
    except requests.RequestException:
        return False
