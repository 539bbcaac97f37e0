"""A local, contract-faithful stand-in for Deepgram's streaming speech-to-text websocket.

``GET /v1/listen`` upgraded to a websocket, as ``livekit-plugins-deepgram`` 1.8.9 opens it
(``deepgram/stt.py``: ``Authorization: Token <key>``; query ``model``, ``language``,
``encoding=linear16``, ``sample_rate``, ``channels``, ``interim_results``, ``punctuate``,
``smart_format``, ``no_delay``, ``vad_events``, ``endpointing`` (ms or ``false``),
``filler_words``, ``profanity_filter``, ``numerals``, ``mip_opt_out``, optional
``utterance_end_ms``, ``keyterm``...). The protocol, from Deepgram's documentation:

* binary frames are raw audio in the declared encoding; the server answers ``Results``
  messages (``type``, ``channel_index``, ``duration``, ``start``, ``is_final``,
  ``speech_final``, ``from_finalize``, ``channel.alternatives[].transcript / confidence /
  words[]`` with ``word``, ``start``, ``end``, ``confidence``, ``punctuated_word``, and
  ``metadata.request_id / model_info / model_uuid``) — interim ones (``is_final: false``)
  while ``interim_results=true``, a final one at the end of each utterance, with
  ``speech_final: true`` when endpointing is on;
* ``SpeechStarted`` (``vad_events=true``) when speech begins, ``UtteranceEnd`` after
  ``utterance_end_ms`` of silence when that is set;
* text frames: ``{"type": "KeepAlive"}`` keeps an idle connection open (no answer);
  ``{"type": "Finalize"}`` flushes the utterance (``from_finalize: true``);
  ``{"type": "CloseStream"}`` makes the server "finish processing any cached data, send the
  response to the client, send a summary metadata object, and then terminate the WebSocket
  connection" (Deepgram, *Close Stream*): a ``Metadata`` message (``transaction_key``,
  ``request_id``, ``sha256``, ``created``, ``duration``, ``channels``) then the close;
* "If no audio data or KeepAlive messages are sent within a 10-second window, the connection
  will close with a NET-0001 error" (Deepgram, *Audio Keep Alive*) — ``idle_timeout``.

Recognition is real: an energy detector finds the utterances and pocketsphinx decodes each
one incrementally (partial hypotheses become the interim results) over the configured
phrases (:class:`~atende_local.stand_ins.speech.Recognizer`). One deviation, stated:
an energy detector cannot tell a pause between words from an end of speech at Deepgram's
millisecond endpointing, so an utterance ends after ``max(endpointing, min_gap_ms)`` of
silence (300 ms by default). :meth:`DeepgramStandIn.fail` closes open sockets with 1011 and
refuses new handshakes with 503 until :meth:`recover`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from atende_local.stand_ins.speech import Recognizer, UtteranceStream

NET_0001 = "NET-0001: no audio or KeepAlive received within the timeout window"


@dataclass
class ListenSession:
    """What one websocket connection asked for and what happened on it."""

    params: dict[str, str]
    request_id: str
    messages: list[dict[str, Any]] = field(default_factory=list)  # what the server sent
    client_messages: list[str] = field(default_factory=list)  # text frame types received
    audio_bytes: int = 0
    closed_by: str | None = None  # "CloseStream" | "client" | "idle" | "failure"

    def results(self, *, final: bool | None = None) -> list[dict[str, Any]]:
        return [
            m
            for m in self.messages
            if m["type"] == "Results" and (final is None or m["is_final"] is final)
        ]

    def finals(self) -> list[str]:
        return [
            m["channel"]["alternatives"][0]["transcript"]
            for m in self.results(final=True)
            if m["channel"]["alternatives"][0]["transcript"]
        ]


def _flag(params: dict[str, str], name: str, default: bool) -> bool:
    value = params.get(name)
    return default if value is None else value.lower() == "true"


class DeepgramStandIn:
    """State and ``aiohttp`` app of the Deepgram stand-in (see the module docstring)."""

    def __init__(
        self,
        *,
        recognizer: Recognizer | None = None,
        api_key: str | None = None,
        idle_timeout: float = 10.0,
        min_gap_ms: int = 300,
        energy_threshold: int = 500,
    ) -> None:
        self.recognizer = recognizer
        self.api_key = api_key
        self.idle_timeout = idle_timeout
        self.min_gap_ms = min_gap_ms
        self.energy_threshold = energy_threshold
        self.sessions: list[ListenSession] = []
        self.refused: list[int] = []  # statuses of refused handshakes
        self._failing = False

    def fail(self) -> None:
        """Drop every open stream (close 1011) and refuse new ones (503) until recovered."""
        self._failing = True

    def recover(self) -> None:
        self._failing = False

    @property
    def failing(self) -> bool:
        return self._failing

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/listen", self._listen)
        app.router.add_post("/_stand_in/fail", self._control_fail)
        app.router.add_post("/_stand_in/recover", self._control_recover)
        return app

    async def _control_fail(self, request: web.Request) -> web.Response:
        self.fail()
        return web.json_response({"failing": True})

    async def _control_recover(self, request: web.Request) -> web.Response:
        self.recover()
        return web.json_response({"failing": False})

    def _refuse(self, status: int, message: str) -> web.Response:
        self.refused.append(status)
        return web.json_response(
            {
                "err_code": "INVALID_AUTH" if status == 401 else "SERVICE_UNAVAILABLE",
                "err_msg": message,
                "request_id": str(uuid.uuid4()),
            },
            status=status,
        )

    async def _listen(self, request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme not in ("Token", "Bearer") or not key or (self.api_key and key != self.api_key):
            return self._refuse(401, "Invalid credentials.")
        if self._failing:
            return self._refuse(503, "The stand-in was told to fail.")
        params = dict(request.query)
        if params.get("encoding") != "linear16" or params.get("channels", "1") != "1":
            return self._refuse(400, "this stand-in takes encoding=linear16, channels=1")
        try:
            rate = int(params["sample_rate"])
        except (KeyError, ValueError):
            return self._refuse(400, "sample_rate is required with encoding")
        session = ListenSession(params=params, request_id=str(uuid.uuid4()))
        self.sessions.append(session)
        ws = web.WebSocketResponse(heartbeat=None)
        ws.headers["dg-request-id"] = session.request_id
        await ws.prepare(request)
        stream = _Utterances(self, session, ws, rate)
        last_message = time.monotonic()
        try:
            while True:
                if self._failing:
                    session.closed_by = "failure"
                    await ws.close(code=1011, message=b"stand-in failure")
                    break
                if time.monotonic() - last_message > self.idle_timeout:
                    session.closed_by = "idle"
                    await ws.close(code=1011, message=NET_0001.encode())
                    break
                try:
                    msg = await ws.receive(timeout=0.1)
                except TimeoutError:
                    await stream.tick()
                    continue
                last_message = time.monotonic()
                if msg.type == WSMsgType.BINARY:
                    session.audio_bytes += len(msg.data)
                    await stream.audio(msg.data)
                elif msg.type == WSMsgType.TEXT:
                    kind = json.loads(msg.data).get("type", "")
                    session.client_messages.append(kind)
                    if kind == "Finalize":
                        await stream.end(from_finalize=True)
                    elif kind == "CloseStream":
                        await stream.end(from_finalize=False)
                        await stream.metadata()
                        session.closed_by = "CloseStream"
                        await ws.close()
                        break
                else:  # CLOSE / CLOSING / CLOSED / ERROR
                    session.closed_by = session.closed_by or "client"
                    break
        finally:
            stream.discard()
        return ws


class _Utterances:
    """Energy-based utterance detection feeding pocketsphinx; sends the Results."""

    WINDOW_SECONDS = 0.02
    PRE_ROLL = 10  # windows (200 ms) of audio kept from before the speech began

    def __init__(
        self, owner: DeepgramStandIn, session: ListenSession, ws: web.WebSocketResponse, rate: int
    ) -> None:
        self._owner, self._session, self._ws, self._rate = owner, session, ws, rate
        params = session.params
        self._interim = _flag(params, "interim_results", False)
        self._vad_events = _flag(params, "vad_events", False)
        self._format = _flag(params, "punctuate", False) or _flag(params, "smart_format", False)
        endpointing = params.get("endpointing", "10")
        self._endpointing = endpointing.lower() != "false"
        gap_ms = max(int(endpointing) if endpointing.isdigit() else 10, owner.min_gap_ms)
        self._gap_windows = max(1, int(gap_ms / 1000 / self.WINDOW_SECONDS))
        utterance_end = params.get("utterance_end_ms")
        self._utterance_end_windows = (
            int(int(utterance_end) / 1000 / self.WINDOW_SECONDS) if utterance_end else None
        )
        self._window_bytes = int(rate * self.WINDOW_SECONDS) * 2
        self._buffer = b""
        self._pre_roll: list[bytes] = []
        self._stream: UtteranceStream | None = None
        self._utterance_start = 0.0
        self._silent_windows = 0
        self._since_interim = 0
        self._since_final: int | None = None
        self._position = 0  # windows received
        self._sha = hashlib.sha256()
        self._model = params.get("model", "nova-3")

    @property
    def _seconds(self) -> float:
        return self._position * self.WINDOW_SECONDS

    async def _send(self, message: dict[str, Any]) -> None:
        self._session.messages.append(message)
        if not self._ws.closed:
            with contextlib.suppress(ConnectionError):
                await self._ws.send_str(json.dumps(message))

    async def audio(self, data: bytes) -> None:
        self._sha.update(data)
        self._buffer += data
        while len(self._buffer) >= self._window_bytes:
            window, self._buffer = (
                self._buffer[: self._window_bytes],
                self._buffer[self._window_bytes :],
            )
            await self._window(window)

    async def tick(self) -> None:
        """Nothing arrived for a while: nothing to do (time only advances with audio)."""

    async def _window(self, window: bytes) -> None:
        self._position += 1
        samples = np.frombuffer(window, dtype=np.int16).astype(np.float64)
        voiced = bool(np.sqrt((samples**2).mean()) > self._owner.energy_threshold)
        if self._stream is None:
            self._pre_roll = [*self._pre_roll[-(self.PRE_ROLL - 1) :], window]
            if self._since_final is not None:
                self._since_final += 1
                if self._utterance_end_windows and self._since_final >= self._utterance_end_windows:
                    await self._send(
                        {"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": self._seconds}
                    )
                    self._since_final = None
            if not voiced or self._owner.recognizer is None:
                return
            self._stream = self._owner.recognizer.stream()
            self._utterance_start = self._seconds - len(self._pre_roll) * self.WINDOW_SECONDS
            self._stream.feed(b"".join(self._pre_roll), self._rate)
            self._pre_roll, self._silent_windows, self._since_interim = [], 0, 0
            if self._vad_events:
                await self._send(
                    {"type": "SpeechStarted", "channel": [0], "timestamp": self._utterance_start}
                )
            return
        self._stream.feed(window, self._rate)
        self._silent_windows = 0 if voiced else self._silent_windows + 1
        self._since_interim += 1
        if self._silent_windows >= self._gap_windows:
            await self.end(from_finalize=False)
        elif self._interim and self._since_interim >= 25:  # every 500 ms of speech
            self._since_interim = 0
            partial = self._stream.partial()
            if partial:
                await self._send(
                    self._results(partial, (), 0.5, is_final=False, speech_final=False)
                )

    async def end(self, *, from_finalize: bool) -> None:
        if self._stream is None:
            return
        stream, self._stream = self._stream, None
        result = stream.finish()
        self._since_final = 0
        await self._send(
            self._results(
                result.transcript,
                tuple((w.word, w.start, w.end, w.confidence) for w in result.words),
                result.confidence,
                is_final=True,
                speech_final=self._endpointing and not from_finalize,
                from_finalize=from_finalize,
            )
        )

    def _punctuated(self, text: str) -> str:
        return (text[:1].upper() + text[1:] + ".") if (self._format and text) else text

    def _results(
        self,
        transcript: str,
        words: tuple[tuple[str, float, float, float], ...],
        confidence: float,
        *,
        is_final: bool,
        speech_final: bool,
        from_finalize: bool = False,
    ) -> dict[str, Any]:
        start = self._utterance_start
        word_list = []
        for i, (word, w_start, w_end, w_conf) in enumerate(words):
            shown = word
            if self._format:
                shown = word.capitalize() if i == 0 else word
                shown += "." if i == len(words) - 1 else ""
            word_list.append(
                {
                    "word": word,
                    "start": start + w_start,
                    "end": start + w_end,
                    "confidence": w_conf,
                    "punctuated_word": shown,
                }
            )
        return {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": self._seconds - start,
            "start": start,
            "is_final": is_final,
            "speech_final": speech_final,
            "from_finalize": from_finalize,
            "channel": {
                "alternatives": [
                    {
                        "transcript": self._punctuated(transcript),
                        "confidence": confidence,
                        "words": word_list,
                    }
                ]
            },
            "metadata": {
                "request_id": self._session.request_id,
                "model_info": {
                    "name": f"general-{self._model}",
                    "version": "stand-in",
                    "arch": self._model,
                },
                "model_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, self._model)),
            },
        }

    async def metadata(self) -> None:
        await self._send(
            {
                "type": "Metadata",
                "transaction_key": "deprecated",
                "request_id": self._session.request_id,
                "sha256": self._sha.hexdigest(),
                "created": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "duration": self._seconds,
                "channels": 1,
            }
        )

    def discard(self) -> None:
        self._stream = None
