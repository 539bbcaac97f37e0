"""The provider stand-ins, started once per test session (skipped without their binaries).

``atende_local/stand_ins/install.sh`` installs Debian's espeak-ng; pocketsphinx is a pinned
dev dependency. Tests here run the REAL ``livekit-plugins-openai`` / ``-deepgram`` code
against them; each test starts with every failure switch off and the request logs empty.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atende_local.stand_ins import StandIns, start_all
from atende_local.stand_ins.policy import Rule, ScriptedPolicy
from atende_local.stand_ins.speech import espeak_available, pocketsphinx_available

#: What the caller can say in these tests (the recogniser's closed grammar).
#: (pocketsphinx's US model does not hear espeak-ng's "lemonade" or "for pick up": phrases
#: are chosen that it does, and test_speech checks every one of them.)
PHRASES = [
    "two cokes please",
    "one garlic bread",
    "one large pepperoni pizza",
    "that's all",
    "pick it up",
    "yes please",
]

#: The stand-in LLM's table for the English test menu (tests/voice/conftest.py:menu_en).
POLICY = ScriptedPolicy(
    rules=[
        Rule(r"\bcokes?\b", calls=(("add_item", {"item_id": "coke", "quantity": 2}),)),
        Rule(r"garlic bread", calls=(("add_item", {"item_id": "garlic-bread", "quantity": 1}),)),
        Rule(r"lemonade", calls=(("add_item", {"item_id": "lemonade", "quantity": 1}),)),
        Rule(
            r"pepperoni",
            calls=(("add_item", {"item_id": "pepperoni", "quantity": 1, "option_id": "large"}),),
        ),
        Rule(r"that'?s all", calls=(("read_back_cart", {}),)),
        Rule(r"pick ?up", calls=(("set_fulfilment", {"method": "pickup"}),)),
        Rule(r"^yes", calls=(("confirm_order", {}),)),
    ],
    followups={"confirm_order": [("end_call", {})]},
    greeting="Hello! What would you like?",
)


def _missing() -> str | None:
    if not espeak_available():
        return "espeak-ng is not installed (run atende_local/stand_ins/install.sh)"
    if not pocketsphinx_available():
        return "pocketsphinx is not installed (pip install -c constraints.txt -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def _stand_ins_session() -> Iterator[StandIns]:
    if (reason := _missing()) is not None:
        pytest.skip(reason)
    with start_all(policy=POLICY, phrases=PHRASES) as stand_ins:
        yield stand_ins


@pytest.fixture
def stand_ins(_stand_ins_session: StandIns, monkeypatch: pytest.MonkeyPatch) -> StandIns:
    """Given the stand-ins, healthy, with empty logs and the agent's env pointing at them."""
    s = _stand_ins_session
    s.openai.recover_all()
    s.deepgram.recover()
    s.openai.requests.clear()
    s.deepgram.sessions.clear()
    s.deepgram.refused.clear()
    for name, value in s.env().items():
        monkeypatch.setenv(name, value)
    return s
