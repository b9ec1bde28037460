"""What every route needs (settings, Temporal client, rule set, secrets, clock), handed over as one dependency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from config.settings import Settings
from domain.jakarta import jakarta_date
from schemas.catalog import RuleSet
from schemas.incentives import IncentiveRules


@dataclass(frozen=True)
class ApiContext:
    settings: Settings
    temporal: Client
    rules: RuleSet
    secrets: Callable[[str], bytes]
    clock: Callable[[], datetime]
    incentives: IncentiveRules

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the API clock must return timezone-aware datetimes")
        return moment

    def today(self) -> date:
        """Today's date in Asia/Jakarta."""
        return jakarta_date(self.now())


def get_context(request: Request) -> ApiContext:
    return request.app.state.jfc


Context = Annotated[ApiContext, Depends(get_context)]
