"""Schemathesis against the service's own OpenAPI schema, with valid keys: no 5xx, and every
response matches its documented schema. Bounded (25 examples per operation, derandomized) so it
fits the test run; each operation is called with the key of the role it is meant for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from api.http.app import create_app
from search.settings import Settings
from tests.backends import copy_store, make_tokens
from tests.conftest import Server

schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())

ROLE_BY_PREFIX = {
    "/offices": "office-admin",
    "/keys": "office-admin",
    "/audit": "auditor",
    "/screenings": "analyst",
    "/watchlists": "analyst",
    "/alerts": "analyst",
    "/webhooks": "office-admin",
}


@pytest.fixture(scope="module")
def fuzz_target(
    loaded_store_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    path = tmp_path_factory.mktemp("fuzz") / "s.db"
    copy_store(loaded_store_path, path)
    cfg = Settings(store=path, rate_limit_burst=1_000_000, screening_workers=0, screening_poll_seconds=0.5)
    tokens = make_tokens(cfg)
    with Server(cfg) as server:
        yield server.url, tokens


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(
    case: schemathesis.Case[Any], fuzz_target: tuple[str, dict[str, str]]
) -> None:
    url, tokens = fuzz_target
    role = next((r for p, r in ROLE_BY_PREFIX.items() if case.path.startswith(p)), "investigator")
    case.call_and_validate(
        base_url=url,
        headers={"Authorization": f"Bearer {tokens[role]}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
