"""The wiring table is consistent and its generated doc is current."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from atende_local.wiring_doc import render
from functions.wiring import FUNCTIONS, QUEUES
from functions.wiring_model import Schedule

ROOT = Path(__file__).resolve().parents[2]


def test_docs_wiring_md_matches_the_declarations():
    committed = (ROOT / "docs" / "wiring.md").read_text()
    assert committed == render(), "run: python -m atende_local.wiring_doc > docs/wiring.md"


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_every_declared_handler_exists_and_is_callable(spec):
    module = importlib.import_module(spec.module)
    assert callable(getattr(module, spec.attribute))


def test_every_queue_a_function_sends_to_is_declared():
    declared = {q.name for q in QUEUES}
    for spec in FUNCTIONS:
        assert set(spec.access.sends_to) <= declared, spec.name


def test_rate_schedules_know_their_period_and_bad_expressions_are_refused():
    assert Schedule(name="x", expression="rate(5 minutes)").rate_seconds == 300
    assert Schedule(name="x", expression="rate(1 hour)").rate_seconds == 3600
    assert Schedule(name="x", expression="cron(0 4 1 * ? *)").rate_seconds is None
    with pytest.raises(ValueError, match="rate"):
        Schedule(name="x", expression="every 5 minutes")
    with pytest.raises(ValueError, match="rate"):
        Schedule(name="x", expression="rate(5 minute)")
