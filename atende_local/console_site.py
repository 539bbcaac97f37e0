"""The restaurant console's static files at ``/console`` (what S3 + CloudFront serve in AWS).

Files come from ``console/dist`` (``make console`` builds it with npm + esbuild). Text
assets are gzip-compressed when the browser accepts it, as CloudFront's automatic
compression does; ``/console/config.json`` tells the app where the API and the sign-in
endpoint are — public values only (a pool's app client id is public by design; there is
no client secret).
"""

from __future__ import annotations

import gzip
import json
import mimetypes
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from atende_local.apigw import HttpRequest, HttpResponse

CONSOLE_PREFIX = "/console"
DIST = Path(__file__).resolve().parent.parent / "console" / "dist"
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".map": "application/json",
}


@dataclass(frozen=True)
class ConsoleSite:
    config: dict[str, Any]
    root: Path = DIST

    def serve(self, request: HttpRequest) -> HttpResponse | None:
        """The answer for a ``/console`` request, or None when the path is not ours."""
        path = request.raw_path
        if path != CONSOLE_PREFIX and not path.startswith(f"{CONSOLE_PREFIX}/"):
            return None
        if request.method not in ("GET", "HEAD"):
            return _plain(405, "method not allowed")
        if path == CONSOLE_PREFIX:
            return HttpResponse(302, [("Location", f"{CONSOLE_PREFIX}/")], b"")
        name = path.removeprefix(f"{CONSOLE_PREFIX}/") or "index.html"
        if name == "config.json":
            body = json.dumps(self.config).encode("utf-8")
            return self._answer(request, body, "application/json", cache="no-store")
        file = (self.root / name).resolve()
        if not file.is_relative_to(self.root.resolve()) or not file.is_file():
            if not (self.root / "index.html").is_file():
                return _plain(
                    503, "the console is not built: run `make console` (npm ci + esbuild)"
                )
            return _plain(404, f"no console file {name}")
        content_type = _TYPES.get(file.suffix) or (
            mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        )
        # index.html names the hashed bundles: never cached; the bundles are immutable.
        cache = "no-cache" if file.suffix == ".html" else "public, max-age=31536000, immutable"
        return self._answer(request, _read(file), content_type, cache=cache)

    def _answer(
        self, request: HttpRequest, body: bytes, content_type: str, *, cache: str
    ) -> HttpResponse:
        headers = [
            ("Content-Type", content_type),
            ("Cache-Control", cache),
            ("X-Content-Type-Options", "nosniff"),
            ("Vary", "Accept-Encoding"),
        ]
        if content_type.endswith("html"):
            headers.append(("Content-Security-Policy", _CSP))
        accepts = next(
            (v for k, v in request.headers if k.lower() == "accept-encoding"), ""
        ).lower()
        if "gzip" in accepts and content_type.startswith(_COMPRESSIBLE) and len(body) > 512:
            body = _gzip(body)
            headers.append(("Content-Encoding", "gzip"))
        return HttpResponse(200, headers, body)


#: Scripts from the console only; the API and sign-in are same-origin locally (the CDK's
#: CloudFront response headers policy sets the AWS equivalent); LiveKit over wss.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss: https:; media-src 'self' blob:; frame-ancestors 'none'"
)


@lru_cache(maxsize=64)
def _read_cached(path: str, mtime: float) -> bytes:
    return Path(path).read_bytes()


def _read(file: Path) -> bytes:
    return _read_cached(str(file), file.stat().st_mtime)


@lru_cache(maxsize=64)
def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=9, mtime=0)


def _plain(status: int, message: str) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "text/plain; charset=utf-8")], message.encode())
