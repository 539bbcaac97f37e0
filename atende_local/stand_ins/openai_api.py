"""A local, contract-faithful stand-in for the parts of the OpenAI API the agent uses.

What the real ``livekit-plugins-openai`` 1.8.9 sends (read in its source) and what this
server answers:

* ``POST /v1/chat/completions`` — the plugin always streams
  (``stream=True, stream_options={"include_usage": True}``, ``livekit/agents/inference/llm.py``).
  The answer is ``text/event-stream`` of ``chat.completion.chunk`` objects as OpenAI documents
  them: a first chunk with ``delta.role = "assistant"``; content in ``delta.content``
  fragments; tool calls as ``delta.tool_calls`` entries carrying ``index``, then ``id``,
  ``type: "function"`` and ``function.name`` on the first fragment and
  ``function.arguments`` split over later fragments; a last choice chunk with
  ``finish_reason`` ``"stop"`` or ``"tool_calls"``; with ``include_usage`` every chunk has
  ``"usage": null`` and one extra chunk with ``"choices": []`` carries the usage (OpenAI:
  "an additional chunk will be streamed before the data: [DONE] message. The usage field on
  this chunk shows the token usage statistics for the entire request, and the choices field
  will always be an empty array"); then ``data: [DONE]``. What to answer comes from a
  :class:`~atende_local.stand_ins.policy.ScriptedPolicy`. ``stream: false`` gets one
  ``chat.completion`` object.
* ``POST /v1/audio/speech`` — the plugin sends ``response_format`` (``mp3`` unless set) and
  ``stream_format="sse"`` except for ``tts-1``/``tts-1-hd`` (``"audio"``;
  ``livekit/plugins/openai/tts.py``). Audio is espeak-ng speech, 24 kHz mono like OpenAI's;
  SSE answers are ``speech.audio.delta`` events (``audio``: base64 chunk) and one
  ``speech.audio.done`` with ``usage``; ``sse`` for ``tts-1`` is refused with 400, as OpenAI
  does.
* ``POST /v1/audio/transcriptions`` — multipart ``file`` (the plugin sends ``file.wav``),
  ``model``, ``language``, ``response_format`` (``json``; ``verbose_json`` for
  ``whisper-1``); recognised with pocketsphinx over the configured phrases.

Every endpoint needs ``Authorization: Bearer <key>`` (401 ``invalid_api_key`` otherwise).
:meth:`OpenAIStandIn.fail` makes a model (or everything) answer an OpenAI error body with a
chosen status from now on — a provider going down mid-call; :meth:`recover` ends it. Each
request is recorded with its server-side timings, so a test can subtract this server's own
time from an end-to-end latency.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from atende_local.stand_ins.policy import Reply, ScriptedPolicy
from atende_local.stand_ins.speech import (
    CONTENT_TYPES,
    Recognizer,
    encode,
    read_wav,
    synthesize,
)

SPEECH_RATE = 24_000
_REQUEST_ID = web.RequestKey("request_id", str)
AUDIO_STREAM_ONLY = {"tts-1", "tts-1-hd"}


@dataclass
class Recorded:
    endpoint: str
    model: str
    status: int
    received_at: float  # perf_counter
    first_byte_at: float | None = None
    done_at: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def server_seconds(self) -> float:
        """This server's own time to the first byte (what to subtract from a latency)."""
        return (self.first_byte_at or self.done_at or self.received_at) - self.received_at


@dataclass
class _Failure:
    status: int
    endpoint: str | None


def _error(status: int, message: str, *, kind: str, code: str | None = None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status)


def _words(text: str) -> int:
    return max(1, len(text.split()))


def _fragments(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


@web.middleware
async def _request_id_header(request: web.Request, handler: Any) -> web.StreamResponse:
    """OpenAI answers every request with an ``x-request-id`` (clients log it)."""
    request_id = f"req_{uuid.uuid4().hex}"
    request[_REQUEST_ID] = request_id
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        exc.headers["x-request-id"] = request_id
        raise
    if not response.prepared:
        response.headers["x-request-id"] = request_id
    return response


class OpenAIStandIn:
    """State and ``aiohttp`` app of the OpenAI stand-in (see the module docstring)."""

    def __init__(
        self,
        *,
        policy: ScriptedPolicy | None = None,
        recognizer: Recognizer | None = None,
        voice: str = "en-us",
        api_key: str | None = None,
        ttft_seconds: float = 0.0,
    ) -> None:
        self.policy = policy or ScriptedPolicy()
        self.recognizer = recognizer
        self.voice = voice
        self.api_key = api_key
        self.ttft_seconds = ttft_seconds
        self.requests: list[Recorded] = []
        self._failures: dict[str | None, _Failure] = {}

    # -- control ---------------------------------------------------------------------------

    def fail(
        self, model: str | None = None, *, status: int = 503, endpoint: str | None = None
    ) -> None:
        """From now on, requests for ``model`` (None: every model) answer ``status``."""
        self._failures[model] = _Failure(status, endpoint)

    def recover(self, model: str | None = None) -> None:
        self._failures.pop(model, None)

    def recover_all(self) -> None:
        self._failures.clear()

    def of(self, endpoint: str, model: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.endpoint == endpoint and (model is None or r.model == model)
        ]

    def _failure_for(self, model: str, endpoint: str) -> _Failure | None:
        for key in (model, None):
            failure = self._failures.get(key)
            if failure and failure.endpoint in (None, endpoint):
                return failure
        return None

    # -- app -------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[_request_id_header])
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/audio/speech", self._speech)
        app.router.add_post("/v1/audio/transcriptions", self._transcriptions)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/_stand_in/fail", self._control_fail)
        app.router.add_post("/_stand_in/recover", self._control_recover)
        app.router.add_get("/_stand_in/requests", self._control_requests)
        return app

    def _unauthorised(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        key = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        if not key or (self.api_key is not None and key != self.api_key):
            return _error(
                401,
                "Incorrect API key provided.",
                kind="invalid_request_error",
                code="invalid_api_key",
            )
        return None

    def _refuse(self, record: Recorded, failure: _Failure) -> web.Response:
        record.status, record.done_at = failure.status, time.perf_counter()
        if failure.status == 429:
            return _error(429, "Rate limit reached.", kind="requests", code="rate_limit_exceeded")
        return _error(
            failure.status,
            "The server had an error while processing your request.",
            kind="server_error",
        )

    async def _models(self, request: web.Request) -> web.Response:
        if (denied := self._unauthorised(request)) is not None:
            return denied
        return web.json_response({"object": "list", "data": []})

    # -- chat ------------------------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        received = time.perf_counter()
        if (denied := self._unauthorised(request)) is not None:
            return denied
        try:
            body = await request.json()
            model, messages = body["model"], body["messages"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "model and messages are required.", kind="invalid_request_error")
        record = Recorded("chat", model, 200, received, detail={"body": body})
        self.requests.append(record)
        if (failure := self._failure_for(model, "chat")) is not None:
            return self._refuse(record, failure)
        reply = self.policy.decide(messages, body.get("tools") or [])
        record.detail["reply"] = reply
        prompt_tokens = sum(_words(json.dumps(m, default=str)) for m in messages)
        completion_tokens = _words(reply.text or "") + sum(
            _words(json.dumps(args)) for _, args in reply.calls
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        }
        if self.ttft_seconds:
            await asyncio.sleep(self.ttft_seconds)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        calls = [(f"call_{uuid.uuid4().hex[:24]}", name, args) for name, args in reply.calls]
        if not body.get("stream"):
            record.first_byte_at = record.done_at = time.perf_counter()
            return web.json_response(self._completion(completion_id, model, reply, calls, usage))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
            }
        )
        await response.prepare(request)
        created = int(time.time())

        async def send(choices: list[dict[str, Any]], usage_value: Any = None) -> None:
            chunk: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_atende_stand_in",
                "choices": choices,
            }
            if include_usage:
                chunk["usage"] = usage_value
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if record.first_byte_at is None:
                record.first_byte_at = time.perf_counter()

        def choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
            return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]

        await send(
            choice({"role": "assistant", "content": "" if not calls else None, "refusal": None})
        )
        for piece in _fragments(reply.text or "", 12) if reply.text else []:
            await send(choice({"content": piece}))
        for index, (call_id, name, args) in enumerate(calls):
            await send(
                choice(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": call_id,
                                "type": "function",
                                "function": {"name": name, "arguments": ""},
                            }
                        ]
                    }
                )
            )
            for piece in _fragments(json.dumps(args), 7):
                await send(
                    choice({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                )
        await send(choice({}, "tool_calls" if calls else "stop"))
        if include_usage:
            await send([], usage)
        await response.write(b"data: [DONE]\n\n")
        record.done_at = time.perf_counter()
        await response.write_eof()
        return response

    @staticmethod
    def _completion(
        completion_id: str,
        model: str,
        reply: Reply,
        calls: list[tuple[str, str, dict[str, Any]]],
        usage: dict[str, Any],
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None}
        if calls:
            message["tool_calls"] = [
                {"id": cid, "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
                for cid, n, a in calls
            ]
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if calls else "stop",
                }
            ],
            "usage": usage,
        }

    # -- speech ----------------------------------------------------------------------------

    async def _speech(self, request: web.Request) -> web.StreamResponse:
        received = time.perf_counter()
        if (denied := self._unauthorised(request)) is not None:
            return denied
        try:
            body = await request.json()
            model, text, voice = body["model"], body["input"], body["voice"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "model, input and voice are required.", kind="invalid_request_error")
        response_format = body.get("response_format", "mp3")
        stream_format = body.get("stream_format", "audio")
        record = Recorded(
            "speech",
            model,
            200,
            received,
            detail={
                "input": text,
                "voice": voice,
                "response_format": response_format,
                "stream_format": stream_format,
            },
        )
        self.requests.append(record)
        if (failure := self._failure_for(model, "speech")) is not None:
            return self._refuse(record, failure)
        if response_format not in CONTENT_TYPES:
            record.status = 400
            return _error(
                400,
                f"response_format {response_format!r} is not supported by this stand-in.",
                kind="invalid_request_error",
                code="unsupported_value",
            )
        if stream_format == "sse" and model in AUDIO_STREAM_ONLY:
            record.status = 400
            return _error(
                400,
                f"stream_format 'sse' is not supported for {model}.",
                kind="invalid_request_error",
                code="unsupported_value",
            )
        loop = asyncio.get_running_loop()
        pcm = await loop.run_in_executor(
            None, lambda: synthesize(text, voice=self.voice, sample_rate=SPEECH_RATE)
        )
        audio = await loop.run_in_executor(None, encode, pcm, SPEECH_RATE, response_format)
        record.detail["audio_seconds"] = len(pcm) / 2 / SPEECH_RATE
        if stream_format == "sse":
            response = web.StreamResponse(
                headers={"Content-Type": "text/event-stream", "x-request-id": request[_REQUEST_ID]}
            )
            await response.prepare(request)
            for i in range(0, len(audio), 4_800):
                event = {
                    "type": "speech.audio.delta",
                    "audio": base64.b64encode(audio[i : i + 4_800]).decode(),
                }
                await response.write(f"data: {json.dumps(event)}\n\n".encode())
                if record.first_byte_at is None:
                    record.first_byte_at = time.perf_counter()
            tokens = _words(text)
            done = {
                "type": "speech.audio.done",
                "usage": {
                    "input_tokens": tokens,
                    "output_tokens": len(audio) // 1_000,
                    "total_tokens": tokens + len(audio) // 1_000,
                },
            }
            await response.write(f"data: {json.dumps(done)}\n\n".encode())
        else:
            response = web.StreamResponse(
                headers={
                    "Content-Type": CONTENT_TYPES[response_format],
                    "x-request-id": request[_REQUEST_ID],
                }
            )
            await response.prepare(request)
            for i in range(0, len(audio), 4_800):
                await response.write(audio[i : i + 4_800])
                if record.first_byte_at is None:
                    record.first_byte_at = time.perf_counter()
        record.done_at = time.perf_counter()
        await response.write_eof()
        return response

    # -- transcription ---------------------------------------------------------------------

    async def _transcriptions(self, request: web.Request) -> web.Response:
        received = time.perf_counter()
        if (denied := self._unauthorised(request)) is not None:
            return denied
        form = await request.post()
        upload, model = form.get("file"), str(form.get("model", ""))
        if not isinstance(upload, web.FileField) or not model:
            return _error(400, "file and model are required.", kind="invalid_request_error")
        response_format = str(form.get("response_format", "json"))
        record = Recorded(
            "transcriptions",
            model,
            200,
            received,
            detail={"language": form.get("language"), "response_format": response_format},
        )
        self.requests.append(record)
        if (failure := self._failure_for(model, "transcriptions")) is not None:
            return self._refuse(record, failure)
        if self.recognizer is None:
            record.status = 503
            return _error(
                503, "this stand-in was started without phrases to recognise.", kind="server_error"
            )
        try:
            pcm, rate = read_wav(upload.file.read())
        except Exception as exc:
            record.status = 400
            return _error(400, f"Invalid file format: {exc}", kind="invalid_request_error")
        recognizer = self.recognizer
        result = await asyncio.get_running_loop().run_in_executor(
            None, recognizer.recognize, pcm, rate
        )
        record.detail["text"] = result.transcript
        record.first_byte_at = record.done_at = time.perf_counter()
        seconds = len(pcm) / 2 / rate
        if response_format == "text":
            return web.Response(text=result.transcript)
        if response_format == "verbose_json":
            return web.json_response(
                {
                    "task": "transcribe",
                    "language": "english",
                    "duration": seconds,
                    "text": result.transcript,
                    "segments": [],
                    "usage": {"type": "duration", "seconds": round(seconds)},
                }
            )
        out_tokens = _words(result.transcript)
        audio_tokens = int(seconds * 10)
        return web.json_response(
            {
                "text": result.transcript,
                "usage": {
                    "type": "tokens",
                    "input_tokens": audio_tokens,
                    "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
                    "output_tokens": out_tokens,
                    "total_tokens": audio_tokens + out_tokens,
                },
            }
        )

    # -- control over HTTP (for a stand-in running as its own process) ---------------------

    async def _control_fail(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        self.fail(
            body.get("model"), status=int(body.get("status", 503)), endpoint=body.get("endpoint")
        )
        return web.json_response({"failing": body})

    async def _control_recover(self, request: web.Request) -> web.Response:
        self.recover_all()
        return web.json_response({"failing": None})

    async def _control_requests(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "endpoint": r.endpoint,
                    "model": r.model,
                    "status": r.status,
                    "server_seconds": r.server_seconds,
                }
                for r in self.requests
            ]
        )
