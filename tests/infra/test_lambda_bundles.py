"""Each Lambda bundle is self-sufficient: its handlers import from the bundle + the layer.

A domain's zip holds only ``functions/__init__.py`` and ``functions/<domain>/`` (no wiring,
no other domain); the layer holds ``atende_shared``. A handler that imported another
domain or the wiring would deploy fine and fail at its first invocation, so each domain's
handlers are imported in a fresh interpreter whose ``sys.path`` starts with exactly those
two directories (third-party packages still come from the venv).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from functions.wiring import FUNCTIONS
from infra_cdk.assets import DOMAINS, stage_sources

pytestmark = pytest.mark.infra

_PROBE = """
import importlib, json, sys
bundle, layer, handlers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path[:0] = [bundle, layer]
import atende_shared, functions
problems = []
if not functions.__file__.startswith(bundle):
    problems.append(f"functions imported from {functions.__file__}")
if not atende_shared.__file__.startswith(layer):
    problems.append(f"atende_shared imported from {atende_shared.__file__}")
for module, attribute in handlers:
    try:
        if not callable(getattr(importlib.import_module(module), attribute)):
            problems.append(f"{module}.{attribute} is not callable")
    except Exception as exc:  # report every handler, not just the first
        problems.append(f"{module}: {type(exc).__name__}: {exc}")
for name, mod in list(sys.modules.items()):
    path = getattr(mod, "__file__", None) or ""
    if name.startswith("functions") and not path.startswith(bundle):
        problems.append(f"{name} imported from outside the bundle: {path}")
print(json.dumps(problems))
"""


def test_every_domain_bundle_imports_its_handlers_from_bundle_and_layer_only(tmp_path: Path):
    # Given the staged layer and bundles
    sources = stage_sources(tmp_path / "staged", prefer_build=False)
    layer = str(sources.layer / "python")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    # When each domain's handlers are imported in a clean interpreter (in parallel)
    probes = {}
    for domain in DOMAINS:
        handlers = [[f.module, f.attribute] for f in FUNCTIONS if f.domain == domain]
        probes[domain] = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _PROBE,
                str(sources.functions[domain]),
                layer,
                json.dumps(handlers),
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    # Then every handler resolves, and nothing came from outside the bundle or the layer
    failures = {}
    for domain, probe in probes.items():
        out, err = probe.communicate(timeout=120)
        problems = json.loads(out.strip().splitlines()[-1]) if probe.returncode == 0 else [err]
        if problems:
            failures[domain] = problems
    assert failures == {}
