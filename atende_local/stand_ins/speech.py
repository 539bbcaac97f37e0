"""Real speech for the provider stand-ins: espeak-ng synthesis and pocketsphinx recognition.

* :func:`synthesize` runs Debian's ``espeak-ng`` (``--stdout`` WAV) and resamples to the rate
  the caller asks (OpenAI's speech endpoint answers 24 kHz mono; :func:`encode` turns the
  samples into the ``response_format`` the client requested: ``pcm``, ``wav``, ``mp3``,
  ``flac`` — mp3 and flac through PyAV's bundled ffmpeg).
* :class:`PhraseRecognizer` decodes audio with PyPI ``pocketsphinx`` (its bundled US-English
  acoustic model and dictionary) restricted to a JSGF grammar of the phrases a test or a
  call can say. A closed grammar makes recognition exact for clear synthetic speech while
  still being recognition: the phrase comes out of the audio, nothing is keyed by text, and
  silence or noise yields an empty transcript. Only English words of the bundled dictionary
  can be recognised (a phrase with an unknown word is refused when the grammar is built).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import threading
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

ESPEAK = "espeak-ng"
#: pocketsphinx's bundled acoustic model is 16 kHz.
RECOGNIZER_RATE = 16_000
_WORD = re.compile(r"[a-z']+")


class SpeechUnavailable(RuntimeError):
    """espeak-ng or pocketsphinx is not installed (``atende_local/stand_ins/install.sh``)."""


def espeak_available() -> bool:
    return shutil.which(ESPEAK) is not None


def pocketsphinx_available() -> bool:
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        return False
    return True


def resample(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """16-bit mono PCM from ``src_rate`` to ``dst_rate`` (libswresample via PyAV)."""
    if src_rate == dst_rate or not pcm:
        return pcm
    import av

    frame = av.AudioFrame.from_ndarray(
        np.frombuffer(pcm, dtype=np.int16).reshape(1, -1), format="s16", layout="mono"
    )
    frame.sample_rate = src_rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=dst_rate)
    out = [f.to_ndarray().tobytes() for f in resampler.resample(frame)]
    out += [f.to_ndarray().tobytes() for f in resampler.resample(None)]
    return b"".join(out)


def synthesize(
    text: str, *, voice: str = "en-us", sample_rate: int = 24_000, words_per_minute: int = 175
) -> bytes:
    """``text`` spoken by espeak-ng as 16-bit mono PCM at ``sample_rate``."""
    if not espeak_available():
        raise SpeechUnavailable(
            "espeak-ng is not installed (run atende_local/stand_ins/install.sh)"
        )
    wav_bytes = subprocess.run(  # noqa: S603 - fixed argv, the text is an argument
        [ESPEAK, "-v", voice, "-s", str(words_per_minute), "--stdout", text],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        rate, pcm = wav.getframerate(), wav.readframes(wav.getnframes())
    return resample(pcm, rate, sample_rate)


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


def read_wav(data: bytes) -> tuple[bytes, int]:
    """Mono 16-bit PCM and its rate from WAV bytes (the first channel if stereo)."""
    with wave.open(io.BytesIO(data)) as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        pcm = wav.readframes(wav.getnframes())
    if width != 2:
        raise ValueError(f"only 16-bit WAV is supported, got {8 * width}-bit")
    if channels > 1:
        pcm = np.frombuffer(pcm, dtype=np.int16)[::channels].tobytes()
    return pcm, rate


def _encode_with_av(pcm: bytes, sample_rate: int, container: str, codec: str) -> bytes:
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        stream: Any = out.add_stream(codec, rate=sample_rate, layout="mono")
        samples = np.frombuffer(pcm, dtype=np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = sample_rate
        frame.time_base = Fraction(1, sample_rate)
        frame.pts = 0
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


#: response_format → content type, as OpenAI's speech endpoint labels them.
CONTENT_TYPES = {
    "pcm": "audio/pcm",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
}


def encode(pcm: bytes, sample_rate: int, response_format: str) -> bytes:
    """PCM samples in one of :data:`CONTENT_TYPES`' formats."""
    if response_format == "pcm":
        return pcm
    if response_format == "wav":
        return wav_bytes(pcm, sample_rate)
    if response_format == "mp3":
        return _encode_with_av(pcm, sample_rate, "mp3", "libmp3lame")
    if response_format == "flac":
        return _encode_with_av(pcm, sample_rate, "flac", "flac")
    raise ValueError(f"unsupported response_format {response_format!r}")


def speech_seconds(pcm: bytes, sample_rate: int, *, threshold: int = 500) -> float:
    """How much of ``pcm`` is voiced (20 ms windows whose RMS exceeds ``threshold``)."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    window = sample_rate // 50
    if len(samples) < window:
        return 0.0
    frames = samples[: len(samples) // window * window].reshape(-1, window)
    rms = np.sqrt((frames**2).mean(axis=1))
    return float((rms > threshold).sum()) * 0.02


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True)
class Recognition:
    transcript: str
    words: tuple[Word, ...]
    confidence: float


class UtteranceStream(Protocol):
    audio_seconds: float

    def feed(self, pcm: bytes, sample_rate: int) -> None: ...

    def partial(self) -> str: ...

    def finish(self) -> Recognition: ...


class Recognizer(Protocol):
    """What the stand-ins transcribe with: whole utterances, or fed incrementally."""

    phrases: list[str]

    def stream(self) -> UtteranceStream: ...

    def recognize(self, pcm: bytes, sample_rate: int) -> Recognition: ...


def recognizer_for(phrases: Iterable[str], *, voice: str, kind: str = "auto") -> Recognizer:
    """``sphinx`` (pocketsphinx, English, wideband audio), ``template`` (espeak-ng renderings
    matched by DTW: any language, telephone audio) or ``auto`` (sphinx for ``en*`` voices)."""
    if kind == "auto":
        kind = "sphinx" if voice.lower().startswith("en") else "template"
    if kind == "sphinx":
        return PhraseRecognizer(phrases)
    if kind == "template":
        return TemplateRecognizer(phrases, voice=voice)
    raise ValueError(f"unknown recognizer {kind!r} (sphinx, template, auto)")


class PhraseRecognizer:
    """pocketsphinx over a closed grammar of ``phrases`` (one decoder per utterance stream)."""

    def __init__(self, phrases: Iterable[str]) -> None:
        if not pocketsphinx_available():
            raise SpeechUnavailable("pocketsphinx is not installed (pip install pocketsphinx)")
        from pocketsphinx import Decoder

        self.phrases = sorted({normalise(p) for p in phrases if normalise(p)})
        if not self.phrases:
            raise ValueError("a recognizer needs at least one phrase")
        probe = Decoder(samprate=RECOGNIZER_RATE, lm=None)
        unknown = sorted(
            {w for p in self.phrases for w in p.split() if probe.lookup_word(w) is None}
        )
        if unknown:
            raise ValueError(f"not in pocketsphinx's English dictionary: {', '.join(unknown)}")
        alternatives = " | ".join(f"( {p} )" for p in self.phrases)
        self.grammar = f"#JSGF V1.0;\ngrammar atende;\npublic <phrase> = {alternatives};\n"
        self._lock = threading.Lock()

    def stream(self) -> RecognizerStream:
        return RecognizerStream(self)

    def recognize(self, pcm: bytes, sample_rate: int) -> Recognition:
        """One whole utterance (``/v1/audio/transcriptions``)."""
        stream = self.stream()
        stream.feed(pcm, sample_rate)
        return stream.finish()

    def _decoder(self) -> Any:
        from pocketsphinx import Decoder

        decoder = Decoder(samprate=RECOGNIZER_RATE, lm=None, loglevel="FATAL")
        decoder.add_jsgf_string("atende", self.grammar)
        decoder.activate_search("atende")
        return decoder


class RecognizerStream:
    """Incremental decoding of one utterance: partial hypotheses, then the final result."""

    def __init__(self, recognizer: PhraseRecognizer) -> None:
        self._decoder = recognizer._decoder()
        self._decoder.start_utt()
        self._lock = threading.Lock()
        self.audio_seconds = 0.0

    def feed(self, pcm: bytes, sample_rate: int) -> None:
        data = resample(pcm, sample_rate, RECOGNIZER_RATE)
        with self._lock:
            self._decoder.process_raw(data, no_search=False, full_utt=False)
            self.audio_seconds += len(data) / 2 / RECOGNIZER_RATE

    def partial(self) -> str:
        with self._lock:
            hyp = self._decoder.hyp()
        return hyp.hypstr if hyp is not None else ""

    def finish(self) -> Recognition:
        with self._lock:
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
            if hyp is None or not hyp.hypstr:
                return Recognition("", (), 0.0)
            confidence = float(min(1.0, max(0.0, self._decoder.get_logmath().exp(hyp.prob))))
            words = tuple(
                Word(seg.word, seg.start_frame / 100, (seg.end_frame + 1) / 100, 0.9)
                for seg in self._decoder.seg()
                if seg.word not in ("<s>", "</s>", "<sil>") and not seg.word.startswith("[")
            )
            return Recognition(hyp.hypstr, words, confidence or 0.9)


# -- template matching (any language, telephone band) ------------------------------------------

TELEPHONE_RATE = 8_000
_FRAME, _HOP, _NFFT, _BANDS = 400, 160, 512, 24  # 25 ms windows, 10 ms hop at 16 kHz


def _mel_filters() -> np.ndarray:
    def mel(hz: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)

    def hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(100.0), mel(3_800.0), _BANDS + 2))
    bins = np.floor((_NFFT + 1) * edges / RECOGNIZER_RATE).astype(int)
    filters = np.zeros((_BANDS, _NFFT // 2 + 1))
    for b in range(_BANDS):
        lo, mid, hi = bins[b], bins[b + 1], max(bins[b + 2], bins[b + 1] + 1)
        filters[b, lo:mid] = (np.arange(lo, mid) - lo) / max(1, mid - lo)
        filters[b, mid:hi] = (hi - np.arange(mid, hi)) / max(1, hi - mid)
    return filters


_MEL = _mel_filters()


def features(pcm: bytes, sample_rate: int) -> np.ndarray:
    """Log-mel frames (telephone band, mean-normalised) of the voiced part of ``pcm``."""
    narrow = resample(resample(pcm, sample_rate, TELEPHONE_RATE), TELEPHONE_RATE, RECOGNIZER_RATE)
    x = np.frombuffer(narrow, dtype=np.int16).astype(np.float64)
    if len(x) < _FRAME:
        return np.zeros((0, _BANDS))
    count = 1 + (len(x) - _FRAME) // _HOP
    index = np.arange(_FRAME)[None, :] + _HOP * np.arange(count)[:, None]
    frames = x[index] * np.hamming(_FRAME)
    power = np.abs(np.fft.rfft(frames, _NFFT)) ** 2
    logmel = np.log(power @ _MEL.T + 1e-3)
    energy = 10 * np.log10((frames**2).mean(axis=1) + 1e-3)
    voiced = np.flatnonzero(energy > max(energy.max() - 35.0, 30.0))
    if not len(voiced):
        return np.zeros((0, _BANDS))
    logmel = logmel[voiced[0] : voiced[-1] + 1]
    return np.asarray(logmel - logmel.mean(axis=0))


def dtw_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Dynamic time warping distance per step (anti-diagonal order, vectorised)."""
    n, m = len(a), len(b)
    if not n or not m:
        return float("inf")
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for k in range(2, n + m + 1):
        i = np.arange(max(1, k - m), min(n, k - 1) + 1)
        j = k - i
        best = np.minimum(np.minimum(acc[i - 1, j - 1], acc[i - 1, j]), acc[i, j - 1])
        acc[i, j] = cost[i - 1, j - 1] + best
    return float(acc[n, m] / (n + m))


class TemplateRecognizer:
    """Closed-set recognition by audio fingerprint, for languages pocketsphinx lacks.

    Each phrase is rendered by espeak-ng in ``voice``; an utterance is answered with the
    phrase whose rendering is nearest by dynamic time warping over telephone-band log-mel
    features (so 8 kHz phone audio and wideband audio compare alike, and a slower or faster
    speaker still matches). It is a scripted mapping keyed by the sound, not speech
    recognition: any speech gets the nearest phrase; silence gets an empty transcript.
    """

    def __init__(self, phrases: Iterable[str], *, voice: str = "pt-br") -> None:
        self.phrases = sorted({p.strip() for p in phrases if p.strip()})
        if not self.phrases:
            raise ValueError("a recognizer needs at least one phrase")
        self._templates = [
            (p, features(synthesize(p, voice=voice, sample_rate=RECOGNIZER_RATE), RECOGNIZER_RATE))
            for p in self.phrases
        ]

    def stream(self) -> _TemplateStream:
        return _TemplateStream(self)

    def recognize(self, pcm: bytes, sample_rate: int) -> Recognition:
        stream = self.stream()
        stream.feed(pcm, sample_rate)
        return stream.finish()

    def nearest(self, pcm: bytes, sample_rate: int) -> tuple[str, float, float]:
        """(phrase, distance, confidence); ``("", inf, 0)`` for silence."""
        probe = features(pcm, sample_rate)
        if len(probe) < 10:  # under 100 ms of voice
            return "", float("inf"), 0.0
        scored = sorted((dtw_distance(probe, t), p) for p, t in self._templates)
        best, phrase = scored[0]
        second = scored[1][0] if len(scored) > 1 else best * 2
        return phrase, best, float(max(0.0, min(1.0, 1.0 - best / second))) if second else 1.0


class _TemplateStream:
    def __init__(self, recognizer: TemplateRecognizer) -> None:
        self._recognizer = recognizer
        self._chunks: list[bytes] = []
        self.audio_seconds = 0.0

    def feed(self, pcm: bytes, sample_rate: int) -> None:
        data = resample(pcm, sample_rate, RECOGNIZER_RATE)
        self._chunks.append(data)
        self.audio_seconds += len(data) / 2 / RECOGNIZER_RATE

    def partial(self) -> str:
        return ""  # a fingerprint has no meaningful prefix: no interim results

    def finish(self) -> Recognition:
        phrase, _distance, confidence = self._recognizer.nearest(
            b"".join(self._chunks), RECOGNIZER_RATE
        )
        if not phrase:
            return Recognition("", (), 0.0)
        words = phrase.split()
        span = self.audio_seconds / max(1, len(words))
        return Recognition(
            phrase,
            tuple(Word(w, i * span, (i + 1) * span, confidence) for i, w in enumerate(words)),
            confidence,
        )
