"""Logging configured once, at the entry point: plain lines or JSON objects (setting log_json)."""

from __future__ import annotations

import json
import logging
import sys
import time

from search.settings import Settings


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        http = getattr(record, "http", None)
        if http is not None:  # the access log's fields, for machines
            out["http"] = http
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    """Root logger to stderr at the configured level; quiet the HTTP client libraries."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("elastic_transport", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The Elasticsearch client logs each failed attempt with the connection error's traceback: an
    # unreachable cluster printed 60 lines before a command's one-line error. The line is kept.
    handler.addFilter(_client_retries_without_traceback)


def _client_retries_without_traceback(record: logging.LogRecord) -> bool:
    if record.name.startswith("elastic_transport"):
        record.exc_info = None
        record.exc_text = None
    return True
