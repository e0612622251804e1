"""``/docs`` from the Swagger UI files of the ``swagger-ui-bundle-v2`` package (Apache-2.0), served
by this process: FastAPI's default page loads them from a CDN, and the service runs inside
government networks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path


def install_docs(app: FastAPI) -> None:
    app.mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="suspects API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png",
        )


# The operations of /docs, grouped in this order.
TAGS: list[dict[str, Any]] = [
    {"name": "matching", "description": "Has any partner office seen this entity? One or a batch of names."},
    {"name": "records", "description": "One record and its matches; an office loading or withdrawing its records."},
    {"name": "screening", "description": "Whole watchlists, screened in the background."},
    {
        "name": "watchlists",
        "description": "Standing watchlists: partners' new and changed records that match them raise alerts.",
    },
    {"name": "alerts", "description": "Your office's alerts, after a cursor; acknowledge or dismiss."},
    {"name": "webhooks", "description": "Alerts pushed to your office's systems, signed (office-admin)."},
    {"name": "reconciliation", "description": "OpenRefine's Reconciliation Service API 0.2."},
    {"name": "keys", "description": "API keys of your own office (office-admin)."},
    {"name": "audit", "description": "Who searched whom, who changed what (auditor)."},
    {"name": "operations", "description": "Counts, liveness and readiness."},
]

# Real requests and answers, recorded from the service on the sample store by
# `python -m tests.api_examples`; tests/test_docs.py keeps them complete and true.
EXAMPLES = Path(__file__).with_name("examples.json")


def add_examples(schema: dict[str, Any], examples: dict[str, dict[str, Any]]) -> None:
    """Put each recorded request and answer into the operation's OpenAPI entry."""
    for key, ex in examples.items():
        method, path = key.split(" ", 1)
        op = schema["paths"][path][method.lower()]
        content = op.get("requestBody", {}).get("content", {})
        if "request" in ex and "application/json" in content:
            content["application/json"]["example"] = ex["request"]
        if "form" in ex and "application/x-www-form-urlencoded" in content:
            content["application/x-www-form-urlencoded"]["example"] = ex["form"]
        given = {**ex.get("path", {}), **ex.get("query", {})}
        for param in op.get("parameters", []):
            if param["name"] in given:
                param["example"] = given[param["name"]]
        answer = op["responses"].setdefault(str(ex["status"]), {"description": "Example"})
        media = answer.setdefault("content", {"application/json": {}})
        kind = "application/json" if "application/json" in media else next(iter(media))
        media[kind]["example"] = ex["response"]


class DocumentedAPI(FastAPI):
    """FastAPI whose OpenAPI schema carries the recorded examples."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            schema = super().openapi()
            add_examples(schema, json.loads(EXAMPLES.read_text(encoding="utf-8")))
        return super().openapi()
