"""Every setting is documented in the README's settings table; nothing else reads the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from search.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    for name, field in Settings.model_fields.items():
        assert f"`SUSPECTS_{name.upper()}`" in readme, name
        assert field.description, name


def test_only_settings_reads_the_environment() -> None:
    offenders = []
    for folder in ("indexer", "search", "api"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text("utf-8")
            if re.search(r"os\.environ|os\.getenv", text) and path.name != "settings.py":
                offenders.append(str(path))
    assert offenders == []


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUSPECTS_CANDIDATES", "17")
    assert Settings().candidates == 17
