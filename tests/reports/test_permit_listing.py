"""The permit list: search, filters, and keyset pagination that visits every row once."""

from __future__ import annotations

import base64
import datetime as dt

import asyncpg
import pytest

from store.reports import decode_cursor, encode_cursor, list_permits
from tests.reports.report_samples import add_application, jkt


async def seed_three(pool: asyncpg.Pool) -> None:
    await add_application(pool, "PRM-P1", submitted_at=jkt(2026, 10, 3, 9), status="issued", title="Senja di Kota",
                          company="PT Contoh Film", locations="Taman Suropati; Museum Fatahillah",
                          agencies=("parks", "heritage"), permit_number="JFC-2026-000123",
                          next_deadline=jkt(2026, 11, 1, 16))
    await add_application(pool, "PRM-P2", submitted_at=jkt(2026, 10, 2, 9), title="Night Market 100%",
                          company="Kino Asia Ltd", locations="Pasar Baru", agencies=("district", "police"))
    await add_application(pool, "PRM-P3", submitted_at=jkt(2026, 10, 1, 9), title="Banjir",
                          company="PT Layar_Emas", locations="Monas", agencies=("parks",))


async def ids(pool: asyncpg.Pool, **filters) -> list[str]:
    return [item.id for item in (await list_permits(pool, **filters)).items]


@pytest.mark.parametrize(("q", "expected"), [
    ("contoh", ["PRM-P1"]),             # applicant company
    ("NIGHT market", ["PRM-P2"]),       # production title, any letter case
    ("suropati", ["PRM-P1"]),           # a location
    ("fatahillah", ["PRM-P1"]),         # the second location
    ("JFC-2026-000123", ["PRM-P1"]),    # permit number
    ("000123", ["PRM-P1"]),             # part of it
    ("pt ", ["PRM-P1", "PRM-P3"]),
    ("100%", ["PRM-P2"]),               # % is a character, not a wildcard
    ("%", ["PRM-P2"]),
    ("layar_emas", ["PRM-P3"]),         # _ too
    ("layarxemas", []),
    ("  banjir  ", ["PRM-P3"]),
    ("", ["PRM-P1", "PRM-P2", "PRM-P3"]),
])
async def test_search(pool: asyncpg.Pool, q: str, expected: list[str]) -> None:
    await seed_three(pool)

    assert await ids(pool, q=q) == expected


async def test_filters_and_the_summary(pool: asyncpg.Pool) -> None:
    await seed_three(pool)

    assert await ids(pool, status="in_review") == ["PRM-P2", "PRM-P3"]
    assert await ids(pool, agency="parks") == ["PRM-P1", "PRM-P3"]
    assert await ids(pool, agency="parks", status="in_review") == ["PRM-P3"]
    assert await ids(pool, agency="police", q="kino") == ["PRM-P2"]
    assert await ids(pool, agency="aviation") == []
    first = (await list_permits(pool, q="contoh")).items[0]
    assert first.model_dump() == {
        "id": "PRM-P1", "status": "issued", "production_title": "Senja di Kota", "applicant_company": "PT Contoh Film",
        "submitted_at": jkt(2026, 10, 3, 9), "permit_number": "JFC-2026-000123",
        "next_deadline": jkt(2026, 11, 1, 16), "agencies": ["parks", "heritage"]}


async def test_keyset_pagination_visits_every_row_once_despite_ties(pool: asyncpg.Pool) -> None:
    rows = []
    for i in range(23):
        submitted = jkt(2026, 10, 1, 9) + dt.timedelta(minutes=i % 4)  # many applications share a submitted_at
        agency = "parks" if i % 2 else "police"
        app_id = f"PRM-T{(i * 7) % 23:02d}"
        await add_application(pool, app_id, submitted_at=submitted, agencies=(agency,))
        rows.append((submitted, app_id, agency))
    rows.sort(reverse=True)  # newest first, then id descending

    for limit, filters in [(4, {}), (1, {}), (23, {}), (22, {}), (5, {"agency": "parks"}), (3, {"q": "contoh"})]:
        want = [app_id for _, app_id, agency in rows if filters.get("agency", agency) == agency]
        seen, cursor, pages = [], None, 0
        while True:
            page = await list_permits(pool, cursor=cursor, limit=limit, **filters)
            seen += [item.id for item in page.items]
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == want, (limit, filters)
        assert pages == -(-len(want) // limit), (limit, filters)  # no empty page at the end


async def test_a_full_last_page_has_no_cursor_when_nothing_follows(pool: asyncpg.Pool) -> None:
    for i in range(4):
        await add_application(pool, f"PRM-F{i}", submitted_at=jkt(2026, 10, 1, 9, i))

    page = await list_permits(pool, limit=4)

    assert len(page.items) == 4 and page.next_cursor is None


def test_cursors_round_trip_and_are_url_safe() -> None:
    moment = dt.datetime(2026, 10, 1, 2, 3, 4, 567890, tzinfo=dt.UTC)
    cursor = encode_cursor(moment, "PRM-ABC")

    assert decode_cursor(cursor) == (moment, "PRM-ABC")
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("cursor", [
    "not base64!!",
    base64.urlsafe_b64encode(b"not json").decode(),
    base64.urlsafe_b64encode(b'{"a": 1}').decode(),
    base64.urlsafe_b64encode(b'["yesterday", "PRM-1"]').decode(),
    base64.urlsafe_b64encode(b'["2026-10-01T00:00:00", "PRM-1"]').decode(),  # no offset
    base64.urlsafe_b64encode(b'["2026-10-01T00:00:00+00:00", ""]').decode(),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
async def test_a_malformed_cursor_is_a_value_error(pool: asyncpg.Pool, cursor: str) -> None:
    with pytest.raises(ValueError, match="cursor is not one this API handed out"):
        await list_permits(pool, cursor=cursor)


async def test_limit_bounds(pool: asyncpg.Pool) -> None:
    for limit in (0, 201):
        with pytest.raises(ValueError, match="limit"):
            await list_permits(pool, limit=limit)


async def seed_two_organisations(pool: asyncpg.Pool) -> None:
    """Two organisations with look-alike applications (same words in titles, companies and locations)."""
    for i in range(5):
        await add_application(pool, f"PRM-A{i}", submitted_at=jkt(2026, 10, 1, 9, i), organisation_id="ORG-A",
                              title=f"Senja {i}", company="PT Contoh Film", locations="Taman Suropati",
                              agencies=("parks", "police") if i % 2 else ("parks",),
                              permit_number=f"JFC-2026-00010{i}" if i == 0 else None)
        await add_application(pool, f"PRM-B{i}", submitted_at=jkt(2026, 10, 1, 9, i), organisation_id="ORG-B",
                              title=f"Senja {i}", company="PT Contoh Sinema", locations="Taman Suropati",
                              agencies=("district",) if i % 2 else ("parks",),
                              permit_number=f"JFC-2026-00020{i}" if i == 0 else None)
    await add_application(pool, "PRM-N0", submitted_at=jkt(2026, 10, 1, 9), title="Senja tanpa pemilik")


async def test_an_organisation_sees_only_its_own_applications_in_lists_and_searches(pool: asyncpg.Pool) -> None:
    await seed_two_organisations(pool)
    mine = ["PRM-A4", "PRM-A3", "PRM-A2", "PRM-A1", "PRM-A0"]

    assert await ids(pool, organisation_id="ORG-A") == mine
    assert await ids(pool, organisation_id="ORG-B") == [m.replace("A", "B") for m in mine]
    for q in ("senja", "contoh", "suropati", "pt ", "senja 3"):  # words both organisations use
        found = await ids(pool, organisation_id="ORG-A", q=q)
        assert found and all(i.startswith("PRM-A") for i in found), q
    assert await ids(pool, organisation_id="ORG-A", q="sinema") == []  # the other's company name
    assert await ids(pool, organisation_id="ORG-A", q="JFC-2026-000200") == []  # the other's permit number
    assert await ids(pool, organisation_id="ORG-B", q="JFC-2026-000200") == ["PRM-B0"]
    assert await ids(pool, organisation_id="ORG-A", agency="district") == []
    assert await ids(pool, organisation_id="ORG-A", status="in_review", agency="police") == ["PRM-A3", "PRM-A1"]
    assert await ids(pool, organisation_id="ORG-NONE") == []
    assert await ids(pool, organisation_id="") == []  # an empty scope is not "no scope"


async def test_an_organisations_pages_never_reach_into_another(pool: asyncpg.Pool) -> None:
    await seed_two_organisations(pool)

    seen, cursor = [], None
    while True:
        page = await list_permits(pool, organisation_id="ORG-B", q="senja", limit=2, cursor=cursor)
        seen += [item.id for item in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == ["PRM-B4", "PRM-B3", "PRM-B2", "PRM-B1", "PRM-B0"]
    # a cursor is a position, not a permission: used in another organisation's list, it shows only that one's rows
    first = await list_permits(pool, organisation_id="ORG-B", limit=1)  # after (09:04, PRM-B4)
    after = await list_permits(pool, organisation_id="ORG-A", cursor=first.next_cursor)
    assert [item.id for item in after.items] == ["PRM-A4", "PRM-A3", "PRM-A2", "PRM-A1", "PRM-A0"]


async def test_an_agency_scope_lists_only_what_was_routed_to_that_agency(pool: asyncpg.Pool) -> None:
    await seed_two_organisations(pool)

    assert await ids(pool, agency_scope="district") == ["PRM-B3", "PRM-B1"]
    assert await ids(pool, agency_scope="police", q="senja") == ["PRM-A3", "PRM-A1"]
    assert await ids(pool, agency_scope="police", agency="parks") == []  # another agency: never its part
    assert await ids(pool, agency_scope="police", agency="police") == await ids(pool, agency_scope="police")
    assert await ids(pool, agency_scope="police", agency="district") == []  # a filter never widens the scope
    assert await ids(pool, agency_scope="police", q="sinema") == []
    assert await ids(pool, agency_scope="aviation") == []
    assert await ids(pool, agency_scope="parks", organisation_id="ORG-B") == ["PRM-B4", "PRM-B2", "PRM-B0"]


async def test_a_scope_postgresql_cannot_store_matches_nothing(pool: asyncpg.Pool) -> None:
    await seed_two_organisations(pool)

    assert await ids(pool, organisation_id="\x00none") == []
    assert await ids(pool, agency_scope="\x00none") == []
    assert await ids(pool, q="senja\x00") == []
    with pytest.raises(ValueError, match="cursor"):
        await list_permits(pool, organisation_id="\x00none", cursor="garbage!")
