"""Jakarta business days and SLA deadlines, on the real holiday data (design §3).

Counting convention: the Jakarta date of acceptance is day 0; each later business day counts one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from domain.calendar import (
    JAKARTA,
    OutsideCalendar,
    add_business_days,
    business_days_between,
    business_deadline,
    is_business_day,
    jakarta_date,
    sla_deadlines,
    in_calendar,
    working_calendar,
)

UTC = timezone.utc


def jkt(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=JAKARTA)


def at16(y, m, d) -> datetime:
    return datetime(y, m, d, 16, 0, tzinfo=JAKARTA)


def test_weekdays_and_weekends():
    assert is_business_day(date(2026, 11, 27))  # Friday
    assert not is_business_day(date(2026, 11, 28))  # Saturday
    assert not is_business_day(date(2026, 11, 29))  # Sunday
    assert is_business_day(date(2026, 11, 30))  # Monday


def test_eid_al_fitr_2026_with_cuti_bersama():
    # 18 Wed (Nyepi joint leave), 19 Thu (Nyepi), 20 Fri (Eid joint leave), 21-22 Eid (weekend),
    # 23 Mon and 24 Tue (Eid joint leave): none is a business day; the 17th and 25th are.
    assert is_business_day(date(2026, 3, 17))
    for day in range(18, 25):
        assert not is_business_day(date(2026, 3, day)), day
    assert is_business_day(date(2026, 3, 25))


def test_year_end_2026_holidays():
    assert not is_business_day(date(2026, 12, 24))  # Christmas joint leave
    assert not is_business_day(date(2026, 12, 25))  # Christmas
    assert is_business_day(date(2026, 12, 31))
    assert not is_business_day(date(2027, 1, 1))  # New Year


def test_add_business_days_zero_is_the_day_itself_even_on_a_saturday():
    assert add_business_days(date(2026, 11, 28), 0) == date(2026, 11, 28)


def test_add_business_days_skips_the_weekend():
    # Fri 27 = day 0; Mon 30 = 1, Tue 1 Dec = 2
    assert add_business_days(date(2026, 11, 27), 2) == date(2026, 12, 1)


def test_add_business_days_rejects_negative():
    with pytest.raises(ValueError):
        add_business_days(date(2026, 11, 27), -1)


def test_jakarta_date_of_utc_input():
    # 20:00 UTC on the 26th is 03:00 WIB (UTC+7) on the 27th
    assert jakarta_date(datetime(2026, 11, 26, 20, 0, tzinfo=UTC)) == date(2026, 11, 27)
    assert jakarta_date(datetime(2026, 11, 26, 16, 59, tzinfo=UTC)) == date(2026, 11, 26)  # 23:59 WIB


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        business_deadline(datetime(2026, 11, 27, 10, 0), 5)
    with pytest.raises(ValueError):
        jakarta_date(datetime(2026, 11, 27, 10, 0))


def test_due_at_across_a_weekend_accepted_friday_late_evening():
    # accepted Fri 27 Nov 23:00 WIB → day 0 is Friday. Mon 30 = 1, Tue 1 Dec = 2, Wed 2 = 3,
    # Thu 3 = 4 (reminder), Fri 4 = 5 (due); grace 5: Mon 7 = 6, Tue 8, Wed 9, Thu 10, Fri 11 = 10 (final)
    sla = sla_deadlines(jkt(2026, 11, 27, 23, 0), sla_days=5, grace_days=5)
    assert sla.reminder_at == at16(2026, 12, 3)
    assert sla.due_at == at16(2026, 12, 4)
    assert sla.final_at == at16(2026, 12, 11)


def test_utc_input_counts_from_the_jakarta_date():
    # 2026-11-26T20:00Z is Fri 27 Nov 03:00 WIB: same deadlines as the Friday case above
    assert sla_deadlines(datetime(2026, 11, 26, 20, tzinfo=UTC), 5, 5).due_at == at16(2026, 12, 4)
    # 2026-11-26T16:59Z is Thu 26 Nov 23:59 WIB: Fri 27 = 1, Mon 30 = 2, Tue 1 = 3, Wed 2 = 4, Thu 3 = 5
    assert sla_deadlines(datetime(2026, 11, 26, 16, 59, tzinfo=UTC), 5, 5).due_at == at16(2026, 12, 3)


def test_deadlines_are_aware_jakarta_times():
    due = sla_deadlines(datetime(2026, 11, 26, 20, tzinfo=UTC), 5, 5).due_at
    assert due.utcoffset() == timedelta(hours=7)
    assert due.astimezone(UTC) == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def test_accepted_on_a_saturday():
    # Sat 28 Nov = day 0; Mon 30 = 1 ... Fri 4 Dec = 5
    sla = sla_deadlines(jkt(2026, 11, 28, 9, 0), 5, 5)
    assert sla.due_at == at16(2026, 12, 4)
    assert sla.reminder_at == at16(2026, 12, 3)


def test_eid_al_fitr_2026_sla():
    # accepted Mon 16 Mar = day 0; Tue 17 = 1; 18-24 are holidays or weekend;
    # Wed 25 = 2, Thu 26 = 3, Fri 27 = 4 (reminder), Mon 30 = 5 (due)
    sla = sla_deadlines(jkt(2026, 3, 16, 14, 0), sla_days=5, grace_days=5)
    assert sla.reminder_at == at16(2026, 3, 27)
    assert sla.due_at == at16(2026, 3, 30)
    # grace: Tue 31 = 6, Wed 1 Apr = 7, Thu 2 = 8, (Fri 3 Good Friday), Mon 6 = 9, Tue 7 = 10
    assert sla.final_at == at16(2026, 4, 7)


def test_year_end_2026_into_2027():
    # accepted Wed 23 Dec = day 0; Thu 24 and Fri 25 holidays; Mon 28 = 1, Tue 29 = 2, Wed 30 = 3,
    # Thu 31 = 4 (reminder); Fri 1 Jan holiday; Mon 4 Jan = 5 (due)
    sla = sla_deadlines(jkt(2026, 12, 23, 11, 0), sla_days=5, grace_days=5)
    assert sla.reminder_at == at16(2026, 12, 31)
    assert sla.due_at == at16(2027, 1, 4)
    # grace: Tue 5 Jan is Isra' Mi'raj 2027; Wed 6 = 6, Thu 7 = 7, Fri 8 = 8, Mon 11 = 9, Tue 12 = 10
    assert sla.final_at == at16(2027, 1, 12)


def test_no_reminder_for_a_one_day_sla():
    # accepted Sat 28 Nov; Mon 30 = 1 (due); grace 0 → final = due
    sla = sla_deadlines(jkt(2026, 11, 28), sla_days=1, grace_days=0)
    assert sla.reminder_at is None
    assert sla.due_at == sla.final_at == at16(2026, 11, 30)


def test_two_day_sla_reminds_on_day_one():
    # accepted Fri 27 Nov; Mon 30 = 1 (reminder), Tue 1 Dec = 2 (due)
    sla = sla_deadlines(jkt(2026, 11, 27), sla_days=2, grace_days=5)
    assert sla.reminder_at == at16(2026, 11, 30)
    assert sla.due_at == at16(2026, 12, 1)


def test_paused_days_push_every_deadline():
    # N = 5 + 2 = 7 from Fri 27 Nov: Fri 4 Dec = 5, Mon 7 = 6 (reminder), Tue 8 = 7 (due);
    # final N + 5 = 12: Wed 9 = 8, Thu 10 = 9, Fri 11 = 10, Mon 14 = 11, Tue 15 = 12
    sla = sla_deadlines(jkt(2026, 11, 27), sla_days=5, grace_days=5, paused_business_days=2)
    assert sla.reminder_at == at16(2026, 12, 7)
    assert sla.due_at == at16(2026, 12, 8)
    assert sla.final_at == at16(2026, 12, 15)


def test_invalid_sla_arguments():
    with pytest.raises(ValueError):
        sla_deadlines(jkt(2026, 11, 27), sla_days=0, grace_days=5)
    with pytest.raises(ValueError):
        sla_deadlines(jkt(2026, 11, 27), sla_days=5, grace_days=5, paused_business_days=-1)


def test_business_deadline_zero_days_is_16_on_the_day_itself():
    assert business_deadline(jkt(2026, 11, 28, 20, 0), 0) == at16(2026, 11, 28)


def test_business_days_between():
    # Fri 27 09:00 → Mon 30 08:00: only Monday counts
    assert business_days_between(jkt(2026, 11, 27, 9), jkt(2026, 11, 30, 8)) == 1
    # same Jakarta date: nothing after day 0
    assert business_days_between(jkt(2026, 11, 27, 9), jkt(2026, 11, 27, 17)) == 0
    # end before start
    assert business_days_between(jkt(2026, 11, 30), jkt(2026, 11, 27)) == 0
    # Mon 16 Mar → Wed 25 Mar 2026: Tue 17 and Wed 25 (18-24 Eid and Nyepi)
    assert business_days_between(jkt(2026, 3, 16), jkt(2026, 3, 25)) == 2
    # UTC inputs use Jakarta dates: Thu 26 23:59 WIB → Fri 27 03:00 WIB is one business day
    late_thursday, early_friday = datetime(2026, 11, 26, 16, 59, tzinfo=UTC), datetime(2026, 11, 26, 20, tzinfo=UTC)
    assert business_days_between(late_thursday, early_friday) == 1


@pytest.mark.parametrize("accepted", [jkt(2026, 3, 16), jkt(2026, 12, 23), jkt(2026, 11, 28)])
def test_business_days_between_inverts_business_deadline(accepted):
    for n in range(0, 12):
        assert business_days_between(accepted, business_deadline(accepted, n)) == n


# ---- the same counts against a recorded calendar (what workflows use) -------------------------------

RECORDED = working_calendar(date(2026, 1, 1), date(2027, 12, 31))

# Around Lebaran 2026 (20-21 March, cuti bersama 18-24 March), Christmas 2026 and Lebaran 2027 (about 10 March).
SAMPLES = [jkt(2026, 3, d) for d in (13, 16, 17, 18, 19, 20, 23, 24, 25)] + [
    jkt(2026, 12, d) for d in (18, 21, 22, 23, 24, 25, 28, 29, 31)] + [jkt(2027, 3, d) for d in (1, 5, 8, 9, 12)]


@pytest.mark.parametrize("accepted", SAMPLES, ids=lambda d: d.date().isoformat())
def test_recorded_calendar_gives_the_deadlines_of_the_holiday_data(accepted):
    recorded = in_calendar(RECORDED)
    for sla, grace, paused in [(1, 0, 0), (3, 5, 0), (5, 5, 2), (14, 5, 0)]:
        assert sla_deadlines(accepted, sla, grace, paused, recorded) == sla_deadlines(accepted, sla, grace, paused)
    for n in (0, 1, 5, 10):
        assert business_deadline(accepted, n, recorded) == business_deadline(accepted, n)
    later = accepted + timedelta(days=17)
    assert business_days_between(accepted, later, recorded) == business_days_between(accepted, later)


def test_recorded_calendar_holds_the_holidays_and_cuti_bersama_on_weekdays_only():
    assert date(2026, 12, 25) in RECORDED.non_working  # Christmas (a Friday)
    assert all(d.weekday() < 5 for d in RECORDED.non_working)
    assert [d for d in RECORDED.non_working if d.year == 2026] == [
        d for d in (date(2026, 1, 1) + timedelta(days=i) for i in range(365)) if d.weekday() < 5 and not is_business_day(d)]


def test_a_count_leaving_the_recorded_range_says_so():
    short = in_calendar(working_calendar(date(2026, 12, 1), date(2026, 12, 31)))
    assert business_deadline(jkt(2026, 12, 1), 5, short) == business_deadline(jkt(2026, 12, 1), 5)
    with pytest.raises(OutsideCalendar):
        business_deadline(jkt(2026, 12, 22), 10, short)  # runs into January
    with pytest.raises(OutsideCalendar):
        business_deadline(jkt(2026, 11, 27), 1, short)  # starts before the range
