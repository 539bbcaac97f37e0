"""The stand-in LLM's deterministic policy: which tools to call, what to say.

A real model reads the conversation and the tools it was offered; so does this table. For
the last message of a ``/v1/chat/completions`` request:

* a **user** message → the first :class:`Rule` whose pattern matches it: its tool calls
  (only tools the request offers: a real model cannot call others) and/or its text;
  no rule → :attr:`ScriptedPolicy.fallback`;
* **tool** results → a follow-up call when one is declared for the tool just answered
  (e.g. ``confirm_order`` → ``end_call``), else the results read out, ``[menu-id]``
  annotations stripped, as the offline brain does;
* nothing from the caller yet → :attr:`ScriptedPolicy.greeting`.

It never computes a price: every amount the caller hears comes from a tool's own sentence.
Rules can be loaded from JSON (``{"rules": [{"when": "...", "calls": [["add_item",
{"item_id": "coke"}]], "say": "..."}], "followups": {"confirm_order": [["end_call", {}]]}}``)
so a stand-in started as a process (``python -m atende_local.stand_ins``) can be scripted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_BRACKETS = re.compile(r"\s*\[[^\]]*\]")

ToolCallSpec = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    when: str
    calls: tuple[ToolCallSpec, ...] = ()
    say: str | None = None

    def matches(self, utterance: str) -> bool:
        return re.search(self.when, utterance, flags=re.IGNORECASE) is not None


@dataclass(frozen=True)
class Reply:
    text: str | None = None
    calls: tuple[ToolCallSpec, ...] = ()


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


@dataclass
class ScriptedPolicy:
    rules: list[Rule] = field(default_factory=list)
    followups: dict[str, list[ToolCallSpec]] = field(default_factory=dict)
    greeting: str = "Hello! What would you like to order?"
    fallback: str = "Sorry, could you say that again?"

    @classmethod
    def from_json(cls, source: str | Path | dict[str, Any]) -> ScriptedPolicy:
        data = source if isinstance(source, dict) else json.loads(Path(source).read_text())
        rules = [
            Rule(
                when=r["when"],
                calls=tuple((c[0], dict(c[1])) for c in r.get("calls", [])),
                say=r.get("say"),
            )
            for r in data.get("rules", [])
        ]
        followups = {
            name: [(c[0], dict(c[1])) for c in calls]
            for name, calls in data.get("followups", {}).items()
        }
        extra = {k: data[k] for k in ("greeting", "fallback") if k in data}
        return cls(rules=rules, followups=followups, **extra)

    def decide(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Reply:
        offered = {t.get("function", {}).get("name") for t in tools}
        if not messages or messages[-1].get("role") == "system":
            return Reply(text=self.greeting)
        last = messages[-1]
        if last.get("role") == "tool":
            results: list[dict[str, Any]] = []
            for message in reversed(messages):
                if message.get("role") != "tool":
                    break
                results.insert(0, message)
            called = self._called_names(messages, {m.get("tool_call_id") for m in results})
            for name in called:
                follow = [c for c in self.followups.get(name, []) if c[0] in offered]
                if follow:
                    return Reply(calls=tuple(follow))
            spoken = " ".join(_BRACKETS.sub("", _text_of(m)).strip() for m in results)
            return Reply(text=spoken.strip() or self.fallback)
        if last.get("role") != "user":
            return Reply(text=self.fallback)
        utterance = _text_of(last)
        for rule in self.rules:
            if rule.matches(utterance):
                calls = tuple(c for c in rule.calls if c[0] in offered)
                if calls or rule.say:
                    return Reply(text=rule.say, calls=calls)
        return Reply(text=self.fallback)

    @staticmethod
    def _called_names(messages: list[dict[str, Any]], ids: set[Any]) -> list[str]:
        names = []
        for message in messages:
            for call in message.get("tool_calls") or []:
                if call.get("id") in ids:
                    names.append(call.get("function", {}).get("name", ""))
        return names
