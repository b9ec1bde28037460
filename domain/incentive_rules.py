"""Loading the incentive programmes (`config/incentives.toml`), with errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from domain.catalog import RuleDataError, fill_simulator_url, read_toml
from schemas.incentives import IncentiveRules

if TYPE_CHECKING:
    from config.settings import Settings


def load_incentive_rules(path: Path, simulator_url: str) -> IncentiveRules:
    """The programmes, the audit firm and the treasury from `path`; `{simulator_url}` in a base_url is filled in.

    Raises `RuleDataError` listing every problem as `file:line: field path: what is wrong`.
    """
    path = Path(path)
    problems: list[str] = []
    document = read_toml(path, problems)
    if document is None:
        raise RuleDataError(problems)
    for party in ("audit", "treasury"):
        fill_simulator_url(document.data.get(party), simulator_url)
    try:
        return IncentiveRules.model_validate(document.data)
    except ValidationError as exc:
        raise RuleDataError([document.problem(error["loc"], error["msg"]) for error in exc.errors()]) from None


def default_incentive_rules(settings: Settings) -> IncentiveRules:
    """The programmes named by `settings`: its incentives file and its simulator URL."""
    return load_incentive_rules(settings.incentives_file, settings.simulator_url)
