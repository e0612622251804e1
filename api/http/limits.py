"""Limits checked before routing. Request size, before a body is read: a declared length over the
limit is 413, and a chunked body (no length to check in advance) is refused with 411 (RFC 9110).
And the 429s that authentication would give anyway, given early (:class:`RefuseEarly`)."""

from __future__ import annotations

import anyio
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.http.errors import error_response
from api.http.state import State
from search.errors import PayloadTooLarge, RateLimited
from search.settings import Settings

# The routes that take watchlist files (max_upload_bytes): the API's and the web page's, one limit
# (the web page's was max_body_bytes, 2 MB against the API's 50 MB: issue #18), and an office's
# export (POST /offices/{office}/records: a 90,000-row export is ~9 MB).
UPLOAD_PATHS = ("/screenings", "/ui/screenings")


def is_upload(path: str) -> bool:
    return path in UPLOAD_PATHS or (path.startswith("/offices/") and path.endswith("/records"))


class BodyLimits:
    """Plain ASGI, not ``@app.middleware``: that wrapper costs each request a task and a stream
    (bench/abuse.py: 2.0 ms per refused request before, see the README's abuse table)."""

    def __init__(self, app: ASGIApp, cfg: Settings) -> None:
        self.app = app
        self.cfg = cfg

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        # Only files stream to disk: a JSON body is parsed whole (50 MB of JSON rows took 4.7 GB,
        # issue #18), so it keeps the ordinary limit even on an upload route.
        upload = is_upload(scope["path"]) and headers.get("content-type", "").startswith("multipart/form-data")
        limit = self.cfg.max_upload_bytes if upload else self.cfg.max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            err = PayloadTooLarge(f"request body is {length} bytes; the limit is {limit}", field="body")
            await JSONResponse(err.body(), status_code=413)(scope, receive, send)
            return
        if length is None and "chunked" in headers.get("transfer-encoding", "").lower():
            body = {"error": {"code": "length_required", "message": "send Content-Length", "field": "body"}}
            await JSONResponse(body, status_code=411)(scope, receive, send)
            return
        await self.app(scope, receive, send)


TARPIT_SECONDS = 1.0


class RefuseEarly:
    """Plain ASGI, before routing: a request that authentication would refuse with 429 anyway is
    refused here, for a fraction of the cost (no route, no dependency threads). That is a token
    this server has not verified from a key id or address over the failed-authentication limit,
    and a verified key whose bucket is empty. Anything else goes on to the full checks; this adds
    no rule of its own. (bench/abuse.py: 387 wrong secrets a second had pushed a legitimate
    client's p99 from 66 ms to 309 ms; the README's abuse table has the figures since.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self._refusal(scope) if scope["type"] == "http" else None
        if refusal is not None:
            # Held a second before the answer (a tarpit: an idle task, no CPU), so a flood on N
            # connections costs N requests a second instead of all the server can parse.
            await anyio.sleep(TARPIT_SECONDS)
            await error_response(refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _refusal(scope: Scope) -> RateLimited | None:
        state: State | None = getattr(scope["app"].state, "suspects", None)
        auth = Headers(scope=scope).get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if state is None or scheme.lower() != "bearer" or not token:
            return None
        try:
            key_id = state.verifier.verified_id(token)
            if key_id is not None:
                state.limiter.check(key_id)
            else:
                claimed = token.split("_", 2)
                client = scope["client"][0] if scope.get("client") else ""
                state.verifier.failures.check(claimed[1] if len(claimed) == 3 else "", client)
        except RateLimited as exc:
            return exc
        return None


def install_limits(app: FastAPI, cfg: Settings) -> None:
    app.add_middleware(RefuseEarly)
    app.add_middleware(BodyLimits, cfg=cfg)  # outer: a body too large is refused before its key is read
