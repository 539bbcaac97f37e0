"""The agent's LLM path through the REAL ``livekit-plugins-openai`` against the local stand-in.

What the plugin sends is asserted from what the stand-in received (``stream: true``,
``stream_options.include_usage``, the agent's tools, the tool results of the previous step);
what it parses is the stand-in's OpenAI-shaped SSE (role delta, content deltas,
``tool_calls`` fragments, ``finish_reason``, the usage chunk, ``[DONE]``). OpenAI's reference
for ``stream_options.include_usage``: "an additional chunk will be streamed before the data:
[DONE] message. The usage field on this chunk shows the token usage statistics for the entire
request, and the choices field will always be an empty array"; the plugin's parser
(``livekit/agents/inference/llm.py``) emits a tool call when ``finish_reason`` is
``"tool_calls"`` or ``"stop"``, accumulating ``function.arguments`` fragments per ``index``.
"""

from __future__ import annotations

import json

import pytest
from livekit.agents import llm

from atende_local.stand_ins import StandIns
from tests.voice.conftest import make_state
from tests.voice.helpers import run, spoken, started, tool_calls, turn
from voice_fargate.brain import OfflineBrain
from voice_fargate.pipeline import build_llm
from voice_fargate.settings import ProviderSettings

pytestmark = pytest.mark.stand_ins


def _openai_llm(stand_ins: StandIns, model: str = "gpt-4o-mini") -> llm.LLM:
    from livekit.plugins import openai

    return openai.LLM(model=model, base_url=stand_ins.openai_url, api_key="stand-in-key")


def test_a_conversation_runs_through_the_real_openai_plugin(stand_ins: StandIns) -> None:
    # Given the English test tenant answered by openai.LLM pointed at the stand-in
    state = make_state(lang="en-US")

    async def body() -> None:
        async with started(state, _openai_llm(stand_ins)) as session:
            # When the caller orders two cokes, a garlic bread, and says that's all
            first = await turn(session, "two cokes please")
            second = await turn(session, "one garlic bread")
            third = await turn(session, "that's all")
            # Then the streamed tool calls were parsed and run by the agent's tools
            assert tool_calls(first) == [("add_item", '{"item_id": "coke", "quantity": 2}')]
            assert tool_calls(second) == [
                ("add_item", '{"item_id": "garlic-bread", "quantity": 1}')
            ]
            assert [name for name, _ in tool_calls(third)] == ["read_back_cart"]
            # And the streamed content (the tool's own sentence, ids stripped) was spoken
            assert spoken(first) == ["Added 2x Coke R$ 10.00. Anything else?"]
            assert "[" not in " ".join(spoken(third))

    run(body())
    assert [(ln.item_id, ln.quantity) for ln in state.cart] == [
        ("coke", 2),
        ("garlic-bread", 1),
    ]
    chats = stand_ins.openai.of("chat", "gpt-4o-mini")
    # And every request was a streamed one asking for usage, offering the agent's tools
    assert all(r.detail["body"]["stream"] is True for r in chats)
    assert all(r.detail["body"]["stream_options"] == {"include_usage": True} for r in chats)
    offered = {t["function"]["name"] for t in chats[0].detail["body"]["tools"]}
    assert {"add_item", "read_back_cart", "confirm_order", "end_call"} <= offered
    # And the step after a tool call carried the call and its result back, as OpenAI expects
    follow_up = chats[1].detail["body"]["messages"]
    call = next(m for m in follow_up if m.get("tool_calls"))
    result = next(m for m in follow_up if m["role"] == "tool")
    assert result["tool_call_id"] == call["tool_calls"][0]["id"]
    assert json.loads(call["tool_calls"][0]["function"]["arguments"]) == {
        "item_id": "coke",
        "quantity": 2,
    }


def test_the_usage_chunk_reaches_the_session_metrics(stand_ins: StandIns) -> None:
    # Given a session on the real plugin
    state = make_state(lang="en-US")
    usages: list[int] = []

    async def body() -> None:
        model = _openai_llm(stand_ins)
        model.on("metrics_collected", lambda m: usages.append(m.total_tokens))
        async with started(state, model) as session:
            # When one turn runs
            await turn(session, "two cokes please")

    run(body())
    # Then each completion's usage chunk became an LLM metric with its token count
    assert len(usages) == len(stand_ins.openai.of("chat")) == 2
    assert all(total > 0 for total in usages)


def test_the_primary_failing_mid_call_falls_back_to_the_second_model_then_the_brain(
    stand_ins: StandIns,
) -> None:
    # Given the worker's own LLM chain (gpt-4o-mini → gpt-4.1-mini → offline brain) built
    # from settings that point at the stand-in
    state = make_state(lang="en-US")
    settings = ProviderSettings()
    assert settings.openai_base_url == stand_ins.openai_url
    model = build_llm(settings, OfflineBrain(state))

    async def body() -> None:
        async with started(state, model) as session:
            first = await turn(session, "two cokes please")
            # When the primary model starts answering 503 mid-call
            stand_ins.openai.fail("gpt-4o-mini", status=503)
            second = await turn(session, "one garlic bread")
            # And then OpenAI is down altogether
            stand_ins.openai.fail(None, status=500)
            third = await turn(session, "and a lemonade")
            # Then every turn still ran its tool: primary, second model, offline brain
            assert tool_calls(first) == [("add_item", '{"item_id": "coke", "quantity": 2}')]
            assert tool_calls(second) == [
                ("add_item", '{"item_id": "garlic-bread", "quantity": 1}')
            ]
            assert [name for name, _ in tool_calls(third)] == ["add_item"]

    run(body())
    assert [(ln.item_id, ln.quantity) for ln in state.cart] == [
        ("coke", 2),
        ("garlic-bread", 1),
        ("lemonade", 1),
    ]
    primary = stand_ins.openai.of("chat", "gpt-4o-mini")
    secondary = stand_ins.openai.of("chat", "gpt-4.1-mini")
    assert [r.status for r in primary[:2]] == [200, 200]
    assert 503 in [r.status for r in primary[2:]]
    assert 200 in [r.status for r in secondary]  # the second model answered turn two
    assert secondary[-1].status == 500  # and was down for turn three, which the brain took
