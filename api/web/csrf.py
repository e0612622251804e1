"""Cross-site request forgery: every state-changing form of the web page carries a token.

A red-team page posted its own HK key to ``/ui/login`` from another site and replaced a CN-GD
user's session; the user's next search was then visible to the HK auditor (issue #18). Every form
now carries a random token that also sits in a SameSite=Strict cookie (a cross-site post carries
neither), and a post whose ``Origin`` or ``Sec-Fetch-Site`` names another site is refused as well.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from starlette.responses import Response

CSRF_COOKIE = "suspects_csrf"
FIELD = "csrf"


def token(request: Request) -> str:
    """The page's token: the browser's cookie, or a new one that :func:`remember` will set."""
    current = request.cookies.get(CSRF_COOKIE)
    if current:
        return current
    fresh: str | None = getattr(request.state, "csrf_new", None)
    if fresh is None:
        fresh = secrets.token_urlsafe(24)
        request.state.csrf_new = fresh
    return fresh


def remember(request: Request, response: Response) -> None:
    """Set the cookie if this request made a new token."""
    fresh: str | None = getattr(request.state, "csrf_new", None)
    if fresh is not None:
        response.set_cookie(CSRF_COOKIE, fresh, httponly=True, samesite="strict", path="/ui")


def same_site(request: Request, submitted: str | None) -> bool:
    """Did this post come from one of our own pages?"""
    # Our pages send Referrer-Policy: no-referrer, under which Chromium posts "Origin: null": that
    # says nothing; Sec-Fetch-Site and the token decide.
    origin = request.headers.get("origin")
    if origin not in (None, "null") and origin != f"{request.url.scheme}://{request.url.netloc}":
        return False
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or submitted is None:
        return False
    return hmac.compare_digest(cookie, submitted)
