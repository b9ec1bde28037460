"""Lead time on the critical path and the earliest feasible first shoot date."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from domain_samples import RULES, application, location

from domain.calendar import JAKARTA
from domain.leadtime import earliest_feasible_start, lead_time_business_days
from domain.routing import route
from schemas.contracts import RoutedAgency


def lead(app) -> int:
    return lead_time_business_days(route(app, RULES))


def test_no_agencies_no_lead_time():
    assert lead_time_business_days([]) == 0


def test_single_agency():
    assert lead(application(location(kind="park"))) == 5


def test_parallel_agencies_take_the_longest():
    # parks 5 and heritage 7 run in parallel
    assert lead(application(location(kind="park"), location(kind="heritage_site"))) == 7


def test_lane_closure_has_no_chain():
    # district 3, transport 5, police 14 all in parallel
    assert lead(application(location(kind="public_street", road_use="lane_closure"))) == 14


def test_full_closure_chain_transport_then_police():
    # transport 5 then police 14
    assert lead(application(location(kind="public_street", road_use="full_closure"))) == 19


def test_foreign_crew_chain_culture_ministry_then_police():
    # culture_ministry 7 then police 14
    assert lead(application(location(), foreign=1)) == 21


def test_both_chains_wait_for_the_longer_prerequisite():
    # police waits for transport (5) and culture_ministry (7): 7 + 14; the drone's 14 runs alongside
    assert lead(application(location(kind="public_street", road_use="rolling_closure", drone=True), foreign=1)) == 21


def test_dependency_cycle_is_refused():
    a, b = RULES.catalog.get("parks"), RULES.catalog.get("fire")
    routed = [
        RoutedAgency(agency=a, depends_on=["fire"], location_indexes=[0], reasons=["x"]),
        RoutedAgency(agency=b, depends_on=["parks"], location_indexes=[0], reasons=["x"]),
    ]
    with pytest.raises(ValueError, match="cycle"):
        lead_time_business_days(routed)


def test_earliest_feasible_start_is_the_day_after_the_last_due_day():
    # submitted Mon 2 Nov 2026 = day 0; Tue 3 = 1, Wed 4, Thu 5, Fri 6, Mon 9 = 5 → Tue 10 Nov
    assert earliest_feasible_start(datetime(2026, 11, 2, 10, tzinfo=JAKARTA), 5) == date(2026, 11, 10)


def test_earliest_feasible_start_without_agencies_is_tomorrow():
    assert earliest_feasible_start(datetime(2026, 11, 2, 10, tzinfo=JAKARTA), 0) == date(2026, 11, 3)


def test_earliest_feasible_start_may_be_a_weekend_day():
    # submitted Fri 27 Nov 23:00 WIB: Fri 4 Dec = 5 → Sat 5 Dec is the first feasible day
    assert earliest_feasible_start(datetime(2026, 11, 27, 23, tzinfo=JAKARTA), 5) == date(2026, 12, 5)


def test_earliest_feasible_start_over_eid_2026():
    # submitted Mon 16 Mar: Tue 17 = 1, (18-24 off), Wed 25 = 2, Thu 26 = 3, Fri 27 = 4, Mon 30 = 5 → Tue 31 Mar
    assert earliest_feasible_start(datetime(2026, 3, 16, 9, tzinfo=JAKARTA), 5) == date(2026, 3, 31)
