"""Request-size limits, checked before a body is read: a declared length over the limit is 413,
and a chunked body (no length to check in advance) is refused with 411 (RFC 9110)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from search.errors import PayloadTooLarge
from search.settings import Settings

# The routes that take watchlist files (max_upload_bytes): the API's and the web page's, one limit
# (the web page's was max_body_bytes, 2 MB against the API's 50 MB: issue #18), and an office's
# export (POST /offices/{office}/records: a 90,000-row export is ~9 MB).
UPLOAD_PATHS = ("/screenings", "/ui/screenings")


def is_upload(path: str) -> bool:
    return path in UPLOAD_PATHS or (path.startswith("/offices/") and path.endswith("/records"))


def install_limits(app: FastAPI, cfg: Settings) -> None:
    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        # Only files stream to disk: a JSON body is parsed whole (50 MB of JSON rows took 4.7 GB,
        # issue #18), so it keeps the ordinary limit even on an upload route.
        upload = is_upload(request.url.path) and request.headers.get("content-type", "").startswith(
            "multipart/form-data"
        )
        limit = cfg.max_upload_bytes if upload else cfg.max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            err = PayloadTooLarge(f"request body is {length} bytes; the limit is {limit}", field="body")
            return JSONResponse(err.body(), status_code=413)
        if length is None and "chunked" in request.headers.get("transfer-encoding", "").lower():
            body = {"error": {"code": "length_required", "message": "send Content-Length", "field": "body"}}
            return JSONResponse(body, status_code=411)
        return await call_next(request)
