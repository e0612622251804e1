"""The one error handler: every failure leaves as ``{"error": {"code", "message", "field"?, "details"?}}``.

The service's own errors (:class:`~search.errors.SuspectsError`) carry their status and code;
request validation errors name the field; Starlette's HTTP errors (404 route, 405 method, 400
unparseable body) get the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from search.errors import InvalidInput, RateLimited, StoreUnavailable, SuspectsError


def field_name(loc: Sequence[Any]) -> str:
    """A validation error's location as a dotted field name (``queries.0.name``)."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def error_response(exc: SuspectsError) -> JSONResponse:
    """The JSON response of one service error (with ``Retry-After`` where it applies)."""
    headers = {}
    if isinstance(exc, RateLimited | StoreUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def on_service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SuspectsError)  # registered for SuspectsError only
    return error_response(exc)


async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # registered for RequestValidationError only
    details = [
        {
            # A body that is not JSON at all: FastAPI's loc points into the text; name the body.
            "field": "body" if e.get("type") == "json_invalid" else field_name(e.get("loc", ())),
            # Our own validators raise ValueError; pydantic prefixes its message with "Value
            # error, ", which tells a caller nothing (issue #15).
            "problem": str(e.get("msg", "")).removeprefix("Value error, "),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    first = details[0] if details else {"field": "body", "problem": "invalid request"}
    err = InvalidInput(f"{first['field']}: {first['problem']}", field=first["field"], details=details)
    return JSONResponse(err.body(), status_code=422)


async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # registered for StarletteHTTPException only
    code = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    body: dict[str, Any] = {"code": code, "message": str(exc.detail)}
    if exc.status_code == 400:  # the body could not be parsed at all (e.g. not UTF-8)
        body["field"] = "body"
    return JSONResponse({"error": body}, status_code=exc.status_code)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SuspectsError, on_service_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
