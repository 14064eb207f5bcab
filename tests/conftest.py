"""Shared test fixtures: repository paths and the shipped golden data (never ../shared)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
GOLDEN_DIR = REPO_ROOT / "tests" / "golden_data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return GOLDEN_DIR


def golden_case_ids() -> list[str]:
    """All case folders shipped in tests/golden_data, sorted."""
    return sorted(p.parent.name for p in GOLDEN_DIR.glob("*/meta.json"))


def golden_meta(case_id: str) -> dict:
    return json.loads((GOLDEN_DIR / case_id / "meta.json").read_text())
