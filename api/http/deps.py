"""Every FastAPI dependency of the service, as ``Annotated`` aliases (FastAPI's project template).

Routes declare what they need by type: ``state: StateDep`` for the shared objects, and the caller
by the permission it must hold (``who: Matcher``, ``who: Writer`` …). Every endpoint except
``/healthz``, ``/readyz`` and ``/metrics`` needs ``Authorization: Bearer <key>``: a missing or bad
key is 401, a role or office that may not do this is 403, a key over its rate is 429.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from api.http.state import State
from search.access.keys import Principal
from search.errors import Unauthorized

bearer = HTTPBearer(auto_error=False, description="An API key from `suspects keys create`.")


def state_of(conn: HTTPConnection) -> State:
    """The app's shared :class:`State` (set in the lifespan)."""
    state: State = conn.app.state.suspects
    return state


# The dependencies are ``async``: FastAPI runs a plain ``def`` dependency in the thread pool, and
# each such hop cost ~0.3 ms of a 4.5 ms single /match (py-spy on bench/realistic.py: five hops per
# request, 13 % of the server's GIL time in solve_dependencies). Only store reads leave the loop.
async def get_state(request: Request) -> State:
    return state_of(request)


StateDep = Annotated[State, Depends(get_state)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def authenticate(request: Request, token: str) -> Principal:
    """The caller holding ``token``; 401 if it is not a valid key; 429 over the key's rate."""
    state = state_of(request)
    who = state.verifier.verify(token, client_address(request))
    state.limiter.take(who.key_id)
    return who


async def authenticated(request: Request, token: str) -> Principal:
    """:func:`authenticate` on the event loop when that is cheaper than a thread hop: a token this
    process has verified, with keys in the embedded SQLite file (a key read is a page-cache lookup
    of ~20 µs) or in Elasticsearch (the read awaited on the async client). A new token costs a
    deliberately slow hash: it runs in the thread pool, so it never holds up other requests."""
    state = state_of(request)
    known = state.verifier.verified_id(token)
    if known is not None and state.async_es is None:
        return authenticate(request, token)
    if known is not None and state.async_access is not None:
        # With Elasticsearch, the key read awaited on the loop (no hash: the token is verified).
        key = await state.async_access.get_key(known)
        if key is not None:
            who = state.verifier.admit(token, key, client_address(request))
            state.limiter.take(who.key_id)
            return who
    return await run_in_threadpool(authenticate, request, token)


async def principal(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The authenticated caller; 401 without a valid key; 429 over the key's rate."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        state_of(request).verifier.refused(client_address(request))
        raise Unauthorized("missing API key: send Authorization: Bearer <key>")
    return await authenticated(request, creds.credentials)


async def key_in_path(request: Request, token: str) -> Principal:
    """The caller whose key is in the URL (``/reconcile/key/<key>``: OpenRefine cannot send headers)."""
    return await authenticated(request, token)


def requires(permission: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller, if its role has ``permission`` (403 otherwise)."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        who.require(permission)
        return who

    return check


Caller = Annotated[Principal, Depends(principal)]
MatchCaller = Annotated[Principal, Depends(requires("match"))]
Reader = Annotated[Principal, Depends(requires("read"))]
StatsReader = Annotated[Principal, Depends(requires("stats"))]
Writer = Annotated[Principal, Depends(requires("write"))]
KeyAdmin = Annotated[Principal, Depends(requires("keys"))]
Auditor = Annotated[Principal, Depends(requires("audit"))]
Screener = Annotated[Principal, Depends(requires("screen"))]
WatchCaller = Annotated[Principal, Depends(requires("watch"))]
HookAdmin = Annotated[Principal, Depends(requires("webhooks"))]
