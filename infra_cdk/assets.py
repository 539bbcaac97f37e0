"""Lambda assets without Docker: the shared layer and one code bundle per domain.

``python -m infra_cdk.assets`` (``make build``) writes::

    build/layer/python/atende_shared/...        the shared package
    build/layer/python/<runtime deps>           pyproject [project].dependencies, arm64
                                                wheels, minus the domain-only ones
    build/functions/<domain>/functions/__init__.py
    build/functions/<domain>/functions/<domain>/...
    build/functions/<domain>/<domain-only deps> DOMAIN_DEPENDENCIES[domain], arm64 wheels

The layer is attached to every function, so it holds only what most of them use; a
package only some domains' handlers import (the LiveKit SDK and its aiohttp stack, pymongo)
ships in those domains' bundles instead. ``tests/infra`` scans every
domain's imports and fails when a package is in neither its bundle nor the layer.

Dependencies come from ``pip install --platform manylinux2014_aarch64 --only-binary=:all:``
for the Lambda's Python version, pinned by ``constraints.txt``; boto3/botocore are left to
the runtime. The CDK app uses ``build/`` when it exists; otherwise
:func:`stage_sources` copies the sources (no dependencies) so synth needs no network.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from infra_cdk.constants import (
    BUILD_DIR,
    FUNCTIONS_BUILD_DIR,
    LAMBDA_PLATFORM,
    LAMBDA_PYTHON_VERSION,
    LAYER_BUILD_DIR,
    REPO_ROOT,
    RUNTIME_PROVIDED_PACKAGES,
)

DOMAINS = ("webhooks", "sync", "billing", "provision", "orders")
#: Runtime dependencies (names as pinned in pyproject's ``[project].dependencies``) that
#: only these domains' handlers import: installed into their bundles, not the layer.
DOMAIN_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "webhooks": ("livekit-api",),
    "provision": ("livekit-api",),
    "sync": ("pymongo",),
}
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", "py.typed~")
#: Wiring modules describe deployment; no handler imports them at run time.
_WIRING_FILES = ("wiring.py",)


@dataclass(frozen=True)
class LambdaSources:
    """Directories the CDK app zips: the layer root and one root per domain."""

    layer: Path
    functions: dict[str, Path]
    built: bool


def runtime_dependencies(pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    """``[project].dependencies`` of pyproject.toml: the Lambda runtime set."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return list(data["project"]["dependencies"])


def canonical_name(requirement: str) -> str:
    """``Pydantic_Settings[x]==2.1`` -> ``pydantic-settings`` (PEP 503 normalised)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _domain_only() -> set[str]:
    return {canonical_name(n) for names in DOMAIN_DEPENDENCIES.values() for n in names}


def layer_dependencies() -> list[str]:
    """The runtime dependencies the shared layer installs: all but the domain-only ones."""
    domain_only = _domain_only()
    return [r for r in runtime_dependencies() if canonical_name(r) not in domain_only]


def domain_dependencies(domain: str) -> list[str]:
    """The pinned runtime dependencies installed into ``domain``'s bundle."""
    wanted = {canonical_name(n) for n in DOMAIN_DEPENDENCIES.get(domain, ())}
    pinned = [r for r in runtime_dependencies() if canonical_name(r) in wanted]
    missing = wanted - {canonical_name(r) for r in pinned}
    if missing:
        raise ValueError(f"DOMAIN_DEPENDENCIES[{domain!r}] not in pyproject: {sorted(missing)}")
    return pinned


#: Distributions the Lambda Python runtime already ships (never packaged).
RUNTIME_PROVIDED_DISTRIBUTIONS = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)


def dependency_closure(requirements: Iterable[str]) -> set[str]:
    """Canonical names of every distribution ``requirements`` pull in (extras and markers
    honoured), as installed in this environment; runtime-provided ones left out."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonical_name(req.name)
        if name in seen or name in RUNTIME_PROVIDED_DISTRIBUTIONS:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for raw in dist.requires or []:
            child = Requirement(raw)
            extras = req.extras or {""}
            if child.marker and not any(child.marker.evaluate({"extra": e}) for e in extras):
                continue
            todo.append(child)
    return seen


def _copy_shared_package(target_python_dir: Path) -> None:
    shutil.copytree(
        REPO_ROOT / "layers" / "atende_shared",
        target_python_dir / "atende_shared",
        ignore=_SKIP,
        dirs_exist_ok=True,
    )


def _copy_domain(domain: str, root: Path) -> None:
    package = root / "functions"
    package.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO_ROOT / "functions" / "__init__.py", package / "__init__.py")
    shutil.copytree(
        REPO_ROOT / "functions" / domain,
        package / domain,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *_WIRING_FILES),
        dirs_exist_ok=True,
    )


def _built_sources() -> LambdaSources | None:
    layer_ok = (LAYER_BUILD_DIR / "python" / "atende_shared").is_dir()
    domains = {d: FUNCTIONS_BUILD_DIR / d for d in DOMAINS}
    if layer_ok and all((p / "functions" / d).is_dir() for d, p in domains.items()):
        return LambdaSources(layer=LAYER_BUILD_DIR, functions=domains, built=True)
    return None


def stage_sources(staging_root: Path, *, prefer_build: bool = True) -> LambdaSources:
    """The built assets when ``make build`` ran (and ``prefer_build``), else a
    dependency-free copy of the sources under ``staging_root`` (enough to synthesize;
    not to run)."""
    built = _built_sources() if prefer_build else None
    if built is not None:
        return built
    if staging_root.exists():
        shutil.rmtree(staging_root)
    layer = staging_root / "layer"
    _copy_shared_package(layer / "python")
    functions: dict[str, Path] = {}
    for domain in DOMAINS:
        _copy_domain(domain, staging_root / "functions" / domain)
        functions[domain] = staging_root / "functions" / domain
    return LambdaSources(layer=layer, functions=functions, built=False)


def _pip_install_layer(target: Path, requirements: Iterable[str]) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--platform",
        LAMBDA_PLATFORM,
        "--only-binary=:all:",
        "--python-version",
        LAMBDA_PYTHON_VERSION,
        "--implementation",
        "cp",
        "-c",
        str(REPO_ROOT / "constraints.txt"),
        "--target",
        str(target),
        *requirements,
    ]
    subprocess.run(command, check=True)  # noqa: S603 - fixed argv, no shell


def _prune_runtime_provided(python_dir: Path) -> None:
    """Drop what the runtime already has (boto3/botocore, pulled in through aws-xray-sdk)
    and what only a type checker reads (``*-stubs``, ``types_*``)."""
    for entry in list(python_dir.iterdir()):
        name = entry.name.lower().replace("-", "_")
        distribution = name.split("_")[0] if name.endswith(".dist_info") else name
        typing_only = name.endswith("_stubs") or name.startswith("types_")
        if distribution in RUNTIME_PROVIDED_PACKAGES or typing_only or name == "bin":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for cache in python_dir.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def build(out: Path = BUILD_DIR) -> dict[str, Path]:
    """Build the layer (deps + shared package) and every domain bundle under ``out``."""
    layer_python = out / "layer" / "python"
    if out.exists():
        shutil.rmtree(out)
    layer_python.mkdir(parents=True)
    _pip_install_layer(layer_python, layer_dependencies())
    _prune_runtime_provided(layer_python)
    _copy_shared_package(layer_python)
    roots = {"layer": out / "layer"}
    for domain in DOMAINS:
        bundle = out / "functions" / domain
        if domain_dependencies(domain):
            bundle.mkdir(parents=True)
            _pip_install_layer(bundle, domain_dependencies(domain))
            _prune_runtime_provided(bundle)
        _copy_domain(domain, bundle)
        roots[f"functions/{domain}"] = bundle
    return roots


def zipped_size(root: Path) -> int:
    """Bytes of ``root`` zipped with deflate, as CDK uploads it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root))
    return buffer.tell()


def unzipped_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--out", type=Path, default=BUILD_DIR)
    args = parser.parse_args(argv)
    roots = build(args.out)
    print(f"{'asset':<22} {'unzipped':>12} {'zipped':>12}")
    for name, root in roots.items():
        print(f"{name:<22} {unzipped_size(root):>12,} {zipped_size(root):>12,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
