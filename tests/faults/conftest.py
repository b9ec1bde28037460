"""Fault injection: `--faults-full` (or JFC_FAULTS_FULL=1) runs the long scripted run instead of the short one."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--faults-full", action="store_true", default=False,
                     help="run the full fault-injection script (many applications, every fault as listed)")


@pytest.fixture
def faults_full(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--faults-full")) or os.environ.get("JFC_FAULTS_FULL") == "1"
