"""The shared layer holds what most functions use; a package only one domain imports ships
in that domain's bundle (``infra_cdk.assets.DOMAIN_DEPENDENCIES``).

Every third-party import in a domain's code (module level or lazy, found by walking its
syntax tree) must come from the layer's dependencies or the domain's own, and the shared
package may use only the layer's: a package in neither would deploy and fail at the first
call that imports it.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest

from infra_cdk.assets import (
    DOMAINS,
    RUNTIME_PROVIDED_DISTRIBUTIONS,
    canonical_name,
    dependency_closure,
    domain_dependencies,
    layer_dependencies,
)
from infra_cdk.constants import REPO_ROOT

pytestmark = pytest.mark.infra

_FIRST_PARTY = {"functions", "atende_shared", "__future__"}


def _imported_modules(root: Path) -> set[str]:
    """Every absolute module name imported anywhere under ``root`` (dotted, full)."""
    found: set[str] = set()
    for path in root.rglob("*.py"):
        if path.name == "wiring.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # `from livekit import api` imports livekit.api (or a name of livekit)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@cache
def _distributions_of() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


@cache
def _files_of(distribution: str) -> tuple[str, ...]:
    return tuple(str(f) for f in metadata.distribution(distribution).files or ())


def _providers(module: str) -> set[str]:
    """The distribution(s) providing ``module``; a namespace package (``livekit``,
    ``google``) is resolved by which distribution ships the module's own path."""
    candidates = _distributions_of().get(module.split(".")[0], [])
    if len(candidates) <= 1:
        return {canonical_name(c) for c in candidates}
    parts = module.split(".")
    for depth in range(len(parts), 1, -1):
        prefix = "/".join(parts[:depth])
        owners = {
            c
            for c in candidates
            if any(f == f"{prefix}.py" or f.startswith(f"{prefix}/") for f in _files_of(c))
        }
        if owners:
            return {canonical_name(c) for c in owners}
    return {canonical_name(c) for c in candidates}


def _third_party_distributions(root: Path) -> set[str]:
    skip = _FIRST_PARTY | set(sys.stdlib_module_names)
    distributions: set[str] = set()
    for module in _imported_modules(root):
        if module.split(".")[0] in skip:
            continue
        providers = _providers(module)
        assert providers, f"{root}: import {module!r} comes from no installed distribution"
        distributions |= providers
    return distributions - RUNTIME_PROVIDED_DISTRIBUTIONS


def test_the_shared_package_uses_only_the_layers_dependencies():
    used = _third_party_distributions(REPO_ROOT / "layers" / "atende_shared")
    assert used <= dependency_closure(layer_dependencies())


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_domain_imports_only_what_its_bundle_and_the_layer_ship(domain):
    used = _third_party_distributions(REPO_ROOT / "functions" / domain)
    shipped = dependency_closure(layer_dependencies()) | dependency_closure(
        domain_dependencies(domain)
    )
    assert used <= shipped, f"{domain} imports {sorted(used - shipped)} that nothing ships"


def test_the_layer_carries_no_domain_only_package():
    layer = dependency_closure(layer_dependencies())
    for domain in DOMAINS:
        for requirement in domain_dependencies(domain):
            assert canonical_name(requirement) not in layer, requirement
