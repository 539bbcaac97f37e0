"""The admin API's OpenAPI document (merged from each admin resolver) and Swagger UI.

Each admin handler module exposes its Powertools resolver as ``app``; Powertools'
``OpenAPIMerge`` merges their documents into one OpenAPI 3.1 document plus a bearer
scheme (the local gateway's admin auth; in AWS those routes are IAM-authorized).
Swagger UI's assets ship inside Powertools, so /docs needs no CDN and works offline.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import Server

from atende_local.runtime import FunctionRegistry, HandlerUnavailable

SWAGGER_ASSETS = {
    "swagger-ui-bundle.min.js": "application/javascript",
    "swagger-ui.min.css": "text/css",
}
_SWAGGER_PACKAGE = "aws_lambda_powertools.event_handler.openapi.swagger_ui"


def admin_function_names(registry: FunctionRegistry) -> list[str]:
    return [
        name
        for name, spec in registry.specs.items()
        if any(route.auth == "admin" for route in spec.routes)
    ]


def _resolver(module: Any) -> Any | None:
    resolver = getattr(module, "app", None)
    return resolver if hasattr(resolver, "get_openapi_json_schema") else None


#: The OpenAPI version of the published document: pydantic's schemas for optional fields
#: use ``{"type": "null"}``, which only 3.1 allows (a 3.0.3 document with them is invalid).
OPENAPI_VERSION = "3.1.0"


def merged_openapi(registry: FunctionRegistry, *, server_url: str) -> dict[str, Any]:
    """One OpenAPI 3.1 document for every admin route, merged by Powertools'
    ``OpenAPIMerge`` (a route defined twice is an error); notes the functions it could not
    read under ``x-atende-unavailable``."""
    merger = OpenAPIMerge(
        title="Atende admin API (local)",
        version="1.0.0",
        openapi_version=OPENAPI_VERSION,
        description=(
            "Served by the local gateway. Locally every admin route needs "
            "`Authorization: Bearer <ATENDE_ADMIN_TOKEN>`; in AWS they are IAM-authorized "
            "(SigV4)."
        ),
        servers=[Server(url=server_url)],
        security_schemes={"bearerAuth": {"type": "http", "scheme": "bearer"}},  # type: ignore[dict-item]
        security=[{"bearerAuth": []}],
        on_conflict="error",
    )
    unavailable: dict[str, str] = {}
    for name in admin_function_names(registry):
        try:
            resolver = _resolver(registry.module(name))
            if resolver is None:
                unavailable[name] = "handler module exposes no resolver named 'app'"
                continue
            merger.add_schema(json.loads(resolver.get_openapi_json_schema()))
        except HandlerUnavailable as exc:
            unavailable[name] = exc.reason
        except Exception as exc:  # a resolver whose schema cannot be generated
            unavailable[name] = f"{type(exc).__name__}: {exc}"
    document = json.loads(json.dumps(merger.get_openapi_schema()))
    document.setdefault("paths", {})
    if unavailable:
        document["x-atende-unavailable"] = unavailable
    return dict(document)


def swagger_asset(name: str) -> bytes:
    """One of the Swagger UI files shipped with Powertools."""
    if name not in SWAGGER_ASSETS:
        raise KeyError(name)
    return resources.files(_SWAGGER_PACKAGE).joinpath(name).read_bytes()


def swagger_html(openapi_url: str = "/openapi.json") -> str:
    """A Swagger UI page loading its assets from this gateway."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>Atende admin API (local)</title>
  <link rel="stylesheet" href="/docs/swagger-ui.min.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.min.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{openapi_url}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      presets: [SwaggerUIBundle.presets.apis],
    }});
  </script>
</body>
</html>
"""
