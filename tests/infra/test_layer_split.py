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


def _is_type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports_in(node: ast.AST, *, lazy: bool) -> set[str]:
    """Absolute module names imported under ``node``: at module level only, or (``lazy``)
    inside functions too. ``if TYPE_CHECKING:`` blocks never run, so never count."""
    found: set[str] = set()
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import):
            found |= {alias.name for alias in child.names}
        elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
            # `from livekit import api` imports livekit.api (or a name of livekit)
            found |= {f"{child.module}.{alias.name}" for alias in child.names}
        elif _is_type_checking_block(child):
            continue
        elif lazy or not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            found |= _imports_in(child, lazy=lazy)
    return found


def _imported_modules(root: Path, *, lazy: bool = True) -> set[str]:
    """Every absolute module name imported under ``root`` (dotted, full)."""
    found: set[str] = set()
    for path in root.rglob("*.py"):
        if path.name != "wiring.py":
            found |= _imports_in(ast.parse(path.read_text(encoding="utf-8")), lazy=lazy)
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


def _third_party_distributions(root: Path, *, lazy: bool = True) -> set[str]:
    skip = _FIRST_PARTY | set(sys.stdlib_module_names)
    distributions: set[str] = set()
    for module in _imported_modules(root, lazy=lazy):
        if module.split(".")[0] in skip:
            continue
        providers = _providers(module)
        assert providers, f"{root}: import {module!r} comes from no installed distribution"
        distributions |= providers
    return distributions - RUNTIME_PROVIDED_DISTRIBUTIONS


def test_the_shared_package_imports_only_the_layers_dependencies_at_load():
    # Given what atende_shared imports when a module loads (every function loads it)
    shared = REPO_ROOT / "layers" / "atende_shared"
    at_load = _third_party_distributions(shared, lazy=False)
    layer = dependency_closure(layer_dependencies())
    assert at_load <= layer, sorted(at_load - layer)
    # And what it imports lazily (a helper only one domain calls, e.g. LiveKitEvent
    # from_proto in the webhook ingress) is shipped somewhere
    shipped = layer.union(*(dependency_closure(domain_dependencies(d)) for d in DOMAINS))
    lazily = _third_party_distributions(shared)
    assert lazily <= shipped, sorted(lazily - shipped)


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
