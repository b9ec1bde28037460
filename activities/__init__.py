"""Activities of the permit and incentive engines: classes built with their clients, registered by `all_activities`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg
    import httpx

    from schemas.catalog import RuleSet


def all_activities(
    http: httpx.AsyncClient, rules: RuleSet, documents_dir: Path, pool: asyncpg.Pool | None = None
) -> list[Callable[..., Any]]:
    """Every activity method, bound to its clients, for `Worker(activities=...)`.

    Without a `pool` the read-model activity is still registered, and fails (retryably) until a
    worker with a pool takes its task: projections wait, they are never lost.
    """
    # Imported here so workflows can import `activities.errors` without pulling in httpx, fpdf2 or segno.
    from activities.agencies import AgencyActivities
    from activities.certificates import CertificateActivities
    from activities.deadlines import DeadlineActivities
    from activities.documents import DocumentActivities
    from activities.incentives import FundActivities, IncentiveRecordActivities, PartyActivities
    from activities.notifications import NotificationActivities
    from activities.planning import PlanningActivities
    from activities.records import RecordActivities

    agencies, deadlines, planning = AgencyActivities(http), DeadlineActivities(), PlanningActivities(rules)
    documents, notifications = DocumentActivities(documents_dir), NotificationActivities(pool)
    records = RecordActivities(pool)
    fund, parties, certificates = FundActivities(pool), PartyActivities(http), CertificateActivities(documents_dir)
    incentive_records = IncentiveRecordActivities(pool)
    return [
        agencies.submit_clearance_request,
        agencies.get_clearance_status,
        agencies.withdraw_clearance_request,
        agencies.send_information_answer,
        deadlines.compute_sla_deadlines,
        deadlines.compute_business_deadline,
        deadlines.business_days_between,
        planning.plan_application,
        documents.issue_permit_document,
        notifications.notify,
        records.record_application,
        fund.fund_reserve,
        fund.fund_release,
        fund.fund_pay,
        fund.fund_clawback,
        parties.treasury_pay,
        parties.request_audit,
        certificates.issue_certificate,
        incentive_records.record_incentive,
    ]
