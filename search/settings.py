"""Settings: the one place the environment is read (and, for a library that takes its
configuration no other way, written). Every field has a description, and tests/test_settings.py
checks that the README's settings table lists every field."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings, read from ``SUSPECTS_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SUSPECTS_", extra="ignore")

    store: Path = Field(
        default=Path("var/suspects.db"),
        description="Path of the embedded SQLite store (used when es_url is not set).",
    )
    es_url: str | None = Field(
        default=None,
        description="Elasticsearch URL (or several, comma-separated: every node of a cluster); when set, the Elasticsearch backend is used instead of SQLite.",
    )
    es_index_prefix: str = Field(
        default="suspects",
        description="Prefix of Elasticsearch index and alias names (<prefix>-records-v<schema>-k<keys version>-<timestamp>).",
    )
    es_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds before an Elasticsearch request times out; timed-out requests are retried up to 3 times.",
    )
    require_es: bool = Field(
        default=False,
        description="Tests only: fail, rather than skip, Elasticsearch tests when no cluster is reachable.",
    )
    candidates: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Candidates fetched from the store per query (top-K by summed key weight) before scoring.",
    )
    max_batch: int = Field(
        default=1000,
        ge=1,
        le=10000,
        description="Most queries accepted in one POST /match request.",
    )
    max_name_length: int = Field(
        default=200,
        ge=10,
        le=10000,
        description="Longest name accepted in a query, in characters.",
    )
    max_body_bytes: int = Field(
        default=2_000_000,
        ge=1000,
        description="Largest request body the API accepts, in bytes.",
    )
    rate_limit_per_minute: int = Field(
        default=600,
        ge=1,
        description="Queries per minute each API key may make (token bucket refill rate; a request costs one, "
        "a /match batch one per query).",
    )
    rate_limit_burst: int = Field(
        default=60, ge=1, description="Queries an API key may make at once before the per-minute rate applies."
    )
    audit_retention_days: int = Field(
        default=400,
        ge=1,
        description="Days audit entries are kept; older ones are purged at start-up, and the purge is audited.",
    )
    max_upload_bytes: int = Field(
        default=50_000_000,
        ge=1000,
        description="Largest file uploaded to POST /screenings, /ui/screenings or /offices/{office}/records, "
        "in bytes (JSON bodies and other requests: max_body_bytes).",
    )
    max_upload_rows: int = Field(
        default=1_000_000,
        ge=1,
        description="Most rows an office export uploaded over HTTP may have; refused before any is stored "
        "(`suspects load` has no limit).",
    )
    max_screening_rows: int = Field(default=500_000, ge=1, description="Most rows one screening job may have.")
    screening_workers: int = Field(
        default=1,
        ge=0,
        le=16,
        description="Processes the server uses to match background screening jobs (0: match in a server thread).",
    )
    screening_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A running job's lease; a job whose server died is taken over by another once it runs out.",
    )
    screening_poll_seconds: float = Field(
        default=2.0, gt=0, description="How often an idle server looks for screening jobs submitted elsewhere."
    )
    webhook_timeout: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Seconds a webhook receiver has to answer before the try counts as failed.",
    )
    webhook_max_attempts: int = Field(
        default=12,
        ge=1,
        le=100,
        description="Tries of one webhook delivery before it is dead (listed, and redelivered on request); "
        "with the default backoff, 12 tries span 20 to 40 minutes.",
    )
    webhook_backoff_seconds: float = Field(
        default=2.0, gt=0, description="Wait before a failed webhook delivery's second try; it doubles each try."
    )
    webhook_backoff_cap_seconds: float = Field(
        default=600.0, gt=0, description="Longest wait between two tries of a webhook delivery."
    )
    webhook_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often the server looks for alerts written by another process (a `suspects load`) to deliver.",
    )
    host: str = Field(default="127.0.0.1", description="Address `suspects serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `suspects serve` listens on.")
    auth_failures_per_minute: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="Failed authentications allowed per key id and per client address in a minute; "
        "beyond it 429 before any hashing.",
    )
    session_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 30,
        description="Hours a web page sign-in lasts (ended sooner by signing out or by revoking its key).",
    )
    trusted_proxies: str = Field(
        default="",
        max_length=1000,
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For is believed; "
        "empty: none, the audit records the connecting address.",
    )
    serve_processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes `suspects serve` answers requests with, on one port (rate limits are shared by "
        "all of them). One process matches on one core at a time: set it to the cores the server may use.",
    )
    workers: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Processes used to normalize records when loading large files.",
    )
    log_level: str = Field(default="INFO", description="Logging level (DEBUG, INFO, WARNING, ERROR).")
    log_json: bool = Field(default=False, description="Write log lines as JSON objects instead of plain text.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()


def share_metrics(folder: Path) -> None:
    """Have prometheus_client keep its values in files under ``folder``, which every request
    process of one server writes and ``/metrics`` sums (its multiprocess mode). That library reads
    the choice from the environment when it is first imported, and from nowhere else: call this
    before importing it (`suspects serve` with several processes does, before the fork)."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
