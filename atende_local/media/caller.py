"""A phone caller for the real media stack: sipp dials, tcpdump records, Python listens.

* :func:`caller_audio` synthesises the caller's sentence with espeak-ng (pt-br voice) and
  converts it with sox to what sipp's ``rtp_stream`` plays: 8 kHz mono G.711 µ-law (PCMU,
  RTP payload type 0), raw (sipp 3.6 would stream a WAV header as audio). Silence before
  and after the sentence keeps RTP flowing while the agent greets and answers.
* :func:`scenario` writes the sipp UAC scenario: INVITE with a PCMU SDP offer, ACK, play the
  file, hang up after the given time (BYE); a BYE from the other side ends it early.
* :class:`Capture` records the loopback traffic with tcpdump (pcap) while calls run;
  :func:`read_capture` splits it into SIP messages and per-direction RTP streams, and
  :func:`speech_segments` finds where decoded audio is speech (energy above the noise floor),
  so a test can say "the caller heard N seconds of the agent's voice, starting at T".
"""

from __future__ import annotations

import shutil
import signal
import struct
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SAMPLE_RATE = 8_000
FRAME_SAMPLES = 160  # 20 ms at 8 kHz, the ptime sipp and LiveKit SIP use


def _tool(name: str) -> str:
    """The absolute path of a Debian tool (``install.sh`` installs them)."""
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (atende_local/media/install.sh)")
    return found


def caller_audio(
    text: str,
    path: Path,
    *,
    lead_seconds: float,
    tail_seconds: float,
    voice: str = "pt-br",
) -> tuple[float, float]:
    """Write ``path`` (raw PCMU): ``lead`` s silence, the sentence, ``tail`` s silence.

    Returns (start, end) of the sentence in seconds from the start of the file."""
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(  # noqa: S603 - fixed argv
        [_tool("espeak-ng"), "-v", voice, "-s", "150", "-w", str(raw), text], check=True
    )
    speech = path.with_suffix(".speech.wav")
    subprocess.run(  # noqa: S603
        [_tool("sox"), str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(speech)],
        check=True,
    )
    spoken = _wav_seconds(speech)
    subprocess.run(  # noqa: S603
        [
            _tool("sox"),
            str(speech),
            "-r",
            str(SAMPLE_RATE),
            "-c",
            "1",
            "-t",
            "ul",  # raw G.711 u-law, no header: sipp streams the file's bytes as they are
            str(path),
            "pad",
            f"{lead_seconds:.3f}",
            f"{tail_seconds:.3f}",
        ],
        check=True,
    )
    raw.unlink(missing_ok=True)
    speech.unlink(missing_ok=True)
    return lead_seconds, lead_seconds + spoken


def _wav_seconds(path: Path) -> float:
    import wave

    with wave.open(str(path)) as wav:
        return wav.getnframes() / float(wav.getframerate())


_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="atende caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [rtpstream_audio_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=ptime:20
      a=sendrecv
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <nop><action><exec rtp_stream="{audio},1,0"/></action></nop>
  <recv request="BYE" timeout="{hold_ms}" ontimeout="hangup"/>
  <send next="done">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
  <label id="hangup"/>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
  <label id="done"/>
  <ResponseTimeRepartition value="100, 500, 1000, 5000"/>
</scenario>
"""


_TRANSFER_TAIL = """  <recv request="REFER" timeout="{hold_ms}" ontimeout="hangup"/>
  <send>
    <![CDATA[
      SIP/2.0 202 Accepted
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
  <nop><action><exec command="{follow}"/></action></nop>
  <pause milliseconds="{follow_ms}"/>
  <send retrans="500">
    <![CDATA[
      NOTIFY sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 3 NOTIFY
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Event: refer
      Subscription-State: terminated;reason=noresource
      Max-Forwards: 70
      Content-Type: message/sipfrag;version=2.0
      Content-Length: [len]

      SIP/2.0 200 OK
    ]]>
  </send>
  <!-- LiveKit hangs up its leg once the transfer succeeded: wait generously, a loaded
       machine (CI) has taken more than 15 s -->
  <recv response="200"/>
  <recv request="BYE" timeout="30000" ontimeout="hangup"/>
  <send next="done">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
"""


def transfer_scenario(
    path: Path,
    *,
    audio: Path,
    caller: str,
    hold_seconds: float,
    follow_command: str,
    follow_seconds: float = 4.0,
) -> Path:
    """A caller whose carrier honours the agent's transfer: on REFER it answers 202, runs
    ``follow_command`` (a second sipp dialling the Refer-To target, as the carrier would),
    reports ``200 OK`` in a NOTIFY (``message/sipfrag``) and takes LiveKit's BYE."""
    text = _SCENARIO.format(caller=caller, audio=audio, hold_ms=int(hold_seconds * 1000))
    start = text.index('  <recv request="BYE" timeout=')
    end = text.index('  <label id="hangup"/>')
    tail = _TRANSFER_TAIL.format(
        caller=caller,
        hold_ms=int(hold_seconds * 1000),
        follow=follow_command.replace('"', "&quot;"),
        follow_ms=int(follow_seconds * 1000),
    )
    path.write_text(text[:start] + tail + text[end:], encoding="iso-8859-1")
    return path


def scenario(path: Path, *, audio: Path, caller: str, hold_seconds: float) -> Path:
    """Write the caller's sipp scenario (play ``audio``; BYE after ``hold_seconds``)."""
    path.write_text(
        _SCENARIO.format(caller=caller, audio=audio, hold_ms=int(hold_seconds * 1000)),
        encoding="iso-8859-1",
    )
    return path


@dataclass
class SippRun:
    returncode: int
    stdout: str
    stderr: str


def sipp_argv(
    sip_address: str,
    scenario_file: Path,
    *,
    number: str,
    calls: int = 1,
    rate: float = 1.0,
    timeout_seconds: float = 120.0,
) -> list[str]:
    """sipp as a UAC over UDP on 127.0.0.1, ``calls`` calls at ``rate`` per second."""
    return [
        _tool("sipp"),
        sip_address,
        "-sf",
        str(scenario_file),
        "-s",
        number,
        "-i",
        "127.0.0.1",
        "-p",
        "0",
        "-m",
        str(calls),
        "-l",
        str(calls),
        "-r",
        str(rate),
        "-timeout",
        f"{int(timeout_seconds)}s",
        "-timeout_error",
        "-nostdin",
        "-trace_err",
        "-trace_screen",
    ]


def run_sipp(argv: Sequence[str], workdir: Path, *, timeout: float) -> SippRun:
    answer = subprocess.run(  # noqa: S603 - our argv
        list(argv), cwd=workdir, capture_output=True, text=True, timeout=timeout, check=False
    )
    return SippRun(answer.returncode, answer.stdout[-4000:], answer.stderr[-4000:])


# -- capture -------------------------------------------------------------------------------


@dataclass
class Capture:
    """``tcpdump -i lo`` into a pcap while calls run (root, as CI is)."""

    path: Path
    process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("tcpdump") is not None

    def start(self, bpf: str) -> Capture:
        self.process = subprocess.Popen(  # noqa: S603
            [_tool("tcpdump"), "-i", "lo", "-U", "-n", "-s", "0", "-w", str(self.path), bpf],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 5
        while not self.path.exists() and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tcpdump failed: {self.process.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.05)
        time.sleep(0.3)  # tcpdump writes the header before it listens
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            time.sleep(1.0)  # let the last packets (BYE, 200) reach the capture buffer
            self.process.send_signal(signal.SIGINT)
            self.process.wait(5)


@dataclass
class SipMessage:
    at: float
    first_line: str
    call_id: str
    src_port: int
    dst_port: int
    text: str = ""

    def header(self, name: str) -> str | None:
        for line in self.text.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


@dataclass
class RtpStream:
    src_port: int
    dst_port: int
    payload_type: int
    times: list[float] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list)

    def time_at(self, seconds: float) -> float:
        """Wall-clock arrival of the packet carrying the audio ``seconds`` into the stream."""
        index = int(seconds * SAMPLE_RATE / FRAME_SAMPLES)
        return self.times[min(max(index, 0), len(self.times) - 1)]

    def pcm(self) -> tuple[float, np.ndarray]:
        """(time of the first packet, decoded 16-bit samples laid out by arrival)."""
        if not self.payloads:
            return 0.0, np.zeros(0, dtype=np.int16)
        decode = _ulaw_decode if self.payload_type == 0 else _alaw_decode
        return self.times[0], np.concatenate([decode(p) for p in self.payloads])


@dataclass
class Captured:
    sip: list[SipMessage]
    rtp: dict[tuple[int, int], RtpStream]


def read_capture(path: Path, *, sip_port: int) -> Captured:
    """SIP messages on ``sip_port`` and RTP streams (keyed by (src, dst) port)."""
    data = path.read_bytes()
    if len(data) < 24:
        return Captured([], {})
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    link = struct.unpack(endian + "I", data[20:24])[0]
    offset = 24
    sip: list[SipMessage] = []
    rtp: dict[tuple[int, int], RtpStream] = {}
    while offset + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[offset : offset + 16])
        offset += 16
        frame = data[offset : offset + incl]
        offset += incl
        at = sec + frac / (1e9 if nano else 1e6)
        ip = frame[14:] if link == 1 else frame[16:] if link == 113 else frame[4:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        header = (ip[0] & 0x0F) * 4
        src, dst = struct.unpack(">HH", ip[header : header + 4])
        payload = ip[header + 8 :]
        if sip_port in (src, dst):
            text = payload.decode("latin-1", "replace")
            first = text.split("\r\n", 1)[0]
            call_id = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in text.split("\r\n")
                    if line.lower().startswith(("call-id:", "i:"))
                ),
                "",
            )
            sip.append(SipMessage(at, first, call_id, src, dst, text))
            continue
        if len(payload) < 12 or payload[0] >> 6 != 2:
            continue
        payload_type = payload[1] & 0x7F
        if payload_type not in (0, 8):
            continue
        csrc = (payload[0] & 0x0F) * 4
        body = payload[12 + csrc :]
        stream = rtp.setdefault((src, dst), RtpStream(src, dst, payload_type))
        stream.times.append(at)
        stream.payloads.append(body)
    return Captured(sip, rtp)


def _ulaw_table() -> np.ndarray:
    codes = np.arange(256, dtype=np.int32)
    u = ~codes & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    value = magnitude - 0x84
    return np.where(sign != 0, -value, value).astype(np.int16)


def _alaw_table() -> np.ndarray:
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    value = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << (exponent - 1)
    )
    return np.where(sign != 0, value, -value).astype(np.int16)


_ULAW = _ulaw_table()
_ALAW = _alaw_table()


def _ulaw_decode(payload: bytes) -> np.ndarray:
    return _ULAW[np.frombuffer(payload, dtype=np.uint8)]


def _alaw_decode(payload: bytes) -> np.ndarray:
    return _ALAW[np.frombuffer(payload, dtype=np.uint8)]


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the stream's first sample
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def speech_segments(
    samples: np.ndarray, *, threshold: float = 300.0, bridge_seconds: float = 0.4
) -> list[Segment]:
    """Stretches of 20 ms frames whose RMS exceeds ``threshold``, gaps < ``bridge`` merged."""
    frames = len(samples) // FRAME_SAMPLES
    if frames == 0:
        return []
    blocks = samples[: frames * FRAME_SAMPLES].astype(np.float64).reshape(frames, FRAME_SAMPLES)
    loud = np.sqrt((blocks**2).mean(axis=1)) > threshold
    frame_seconds = FRAME_SAMPLES / SAMPLE_RATE
    segments: list[Segment] = []
    start: int | None = None
    for index, on in enumerate(loud):
        if on and start is None:
            start = index
        elif not on and start is not None:
            segments.append(Segment(start * frame_seconds, index * frame_seconds))
            start = None
    if start is not None:
        segments.append(Segment(start * frame_seconds, frames * frame_seconds))
    merged: list[Segment] = []
    for segment in segments:
        if merged and segment.start - merged[-1].end < bridge_seconds:
            merged[-1] = Segment(merged[-1].start, segment.end)
        else:
            merged.append(segment)
    return merged
