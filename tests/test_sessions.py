"""Web page sign-ins are server-side sessions (issue #18): the cookie was the API key itself, so a
copied cookie was the key, and signing out did not end it. Driven through the sign-in form over
HTTP on loopback, on both backends, and through `suspects serve` behind a trusted proxy."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from search.settings import Settings
from tests.backends import Backend, make_tokens
from tests.conftest import Server, _free_port, serve_process

COOKIE = "suspects_key"


@pytest.fixture(scope="module")
def site(loaded: Settings) -> Iterator[tuple[str, dict[str, str]]]:
    """A server on the shared sample store: sessions and keys are written, records only read."""
    tokens = make_tokens(loaded)
    with Server(loaded) as server:
        yield server.url, tokens


def sign_in(client: httpx.Client, key: str, headers: dict[str, str] | None = None) -> httpx.Response:
    page = client.get("/ui/login", headers=headers).text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    return client.post("/ui/login", data={"key": key, "next": "/ui/search", "csrf": token.group(1)}, headers=headers)


def session_cookie(r: httpx.Response) -> str:
    (header,) = [h for h in r.headers.get_list("set-cookie") if h.startswith(f"{COOKIE}=")]
    return header.lower()


def signed_in(url: str, cookie: str) -> bool:
    """Whether a browser holding only this session cookie is let in to the search page."""
    with httpx.Client(base_url=url, cookies={COOKIE: cookie}, timeout=60) as other:
        r = other.get("/ui/search")
        assert r.status_code in (200, 303)
        return r.status_code == 200


def test_the_cookie_is_a_session_not_the_key(site: tuple[str, dict[str, str]]) -> None:
    url, tokens = site
    key = tokens["investigator"]
    with httpx.Client(base_url=url, timeout=60) as browser:
        assert sign_in(browser, key).status_code == 303
        cookie = browser.cookies[COOKIE]
        _, key_id, secret = key.split("_", 2)  # (the secret itself may hold "_")
        assert cookie != key and secret not in cookie and key_id not in cookie
        assert signed_in(url, cookie)
        # The key itself is no session: a cookie holding it is refused.
        assert not signed_in(url, key)


def test_signing_out_ends_the_session_everywhere(site: tuple[str, dict[str, str]]) -> None:
    url, tokens = site
    with httpx.Client(base_url=url, timeout=60) as browser:
        sign_in(browser, tokens["analyst"])
        copied = browser.cookies[COOKIE]
        page = browser.get("/ui/search").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        assert browser.post("/ui/logout", data={"csrf": csrf.group(1)}).status_code == 303
    # A copy of the cookie taken before signing out no longer signs anyone in.
    assert not signed_in(url, copied)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['auditor']}"}, timeout=60) as auditor:
        actions = [e["action"] for e in auditor.get("/audit", params={"action": "logout"}).json()]
        assert "logout" in actions


def test_revoking_the_key_ends_its_sessions(site: tuple[str, dict[str, str]]) -> None:
    url, tokens = site
    admin = {"Authorization": f"Bearer {tokens['office-admin']}"}
    with httpx.Client(base_url=url, timeout=60) as api:
        made = api.post("/keys", json={"role": "investigator", "label": "session test"}, headers=admin).json()
    with httpx.Client(base_url=url, timeout=60) as browser:
        sign_in(browser, made["token"])
        cookie = browser.cookies[COOKIE]
    assert signed_in(url, cookie)
    with httpx.Client(base_url=url, timeout=60) as api:
        assert api.delete(f"/keys/{made['key_id']}", headers=admin).status_code == 200
    assert not signed_in(url, cookie)


def test_the_cookie_is_secure_behind_an_https_proxy(backend: Backend, loaded: Settings) -> None:
    """`suspects serve` behind a trusted proxy that terminated TLS: the cookie is marked Secure.
    The same server spoken to directly over plain HTTP sets it without (a browser would drop a
    Secure cookie sent over HTTP, and no one could sign in)."""
    port = _free_port()
    token = make_tokens(loaded)["investigator"]
    proc = serve_process(loaded, port, backend, SUSPECTS_TRUSTED_PROXIES="127.0.0.1")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as proxied:
            r = sign_in(proxied, token, headers={"X-Forwarded-Proto": "https"})
            assert r.status_code == 303 and "; secure" in session_cookie(r)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as direct:
            r = sign_in(direct, token)
            assert r.status_code == 303 and "; secure" not in session_cookie(r)
    finally:
        proc.terminate()
        proc.wait(30)
