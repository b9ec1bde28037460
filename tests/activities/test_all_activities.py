"""`all_activities` hands the worker every activity the contracts name, once each."""

from __future__ import annotations

from pathlib import Path

import httpx
from activity_samples import RULES
from temporalio.activity import _Definition

from activities import all_activities
from schemas import contracts


async def test_every_contract_activity_is_registered(tmp_path: Path):
    async with httpx.AsyncClient() as http:
        names = [_Definition.must_from_callable(fn).name for fn in all_activities(http, RULES, tmp_path)]
    expected = {
        contracts.PLAN_APPLICATION, contracts.SUBMIT_CLEARANCE, contracts.GET_CLEARANCE_STATUS,
        contracts.WITHDRAW_CLEARANCE, contracts.SEND_INFORMATION_ANSWER, contracts.COMPUTE_SLA_DEADLINES,
        contracts.COMPUTE_BUSINESS_DEADLINE, contracts.BUSINESS_DAYS_BETWEEN, contracts.ISSUE_PERMIT_DOCUMENT,
        contracts.NOTIFY, contracts.RECORD_APPLICATION,
        contracts.FUND_RESERVE, contracts.FUND_RELEASE, contracts.FUND_PAY, contracts.FUND_CLAWBACK,
        contracts.TREASURY_PAY, contracts.REQUEST_AUDIT, contracts.ISSUE_CERTIFICATE, contracts.RECORD_INCENTIVE,
    }  # fmt: skip
    assert sorted(names) == sorted(expected)
