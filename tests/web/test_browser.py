"""Journeys in a real browser (Debian's Chromium, driven by Playwright) on the whole stack: dev server,
simulator, API with its pages, worker and PostgreSQL. Screenshots go to `.jfc/screenshots/` (not committed)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from store.accounts import create_account
from tests.e2e.conftest import Stack
from tests.web.conftest import local_cookies  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e


def token_of(headers: dict[str, str] | object) -> str:
    return str(headers["Authorization"]).split(" ", 1)[1]  # type: ignore[index]


async def signed_in_page(browser, stack: Stack, token: str, lang: str = "en"):  # noqa: ANN001, ANN201
    context = await browser.new_context(base_url=stack.api, accept_downloads=True, viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    await page.goto(f"/web/lang/{lang}?next=/web/sign-in")
    await page.fill("#token", token)
    await page.click("#sign-in button[type=submit]")
    await page.wait_for_load_state()
    return page


async def fill_location(page, i: int, name: str, day: str) -> None:  # noqa: ANN001
    p = f"locations[{i}]"
    await page.fill(f'[name="{p}.name"]', name)
    await page.select_option(f'[name="{p}.kind"]', "park")
    await page.fill(f'[name="{p}.address"]', "Menteng")
    await page.fill(f'[name="{p}.city"]', "Jakarta Pusat")
    await page.fill(f'[name="{p}.lat"]', "-6.1995")
    await page.fill(f'[name="{p}.lon"]', "106.8325")
    await page.fill(f'[name="{p}.crew_size"]', "25")
    await page.fill(f'[name="{p}.days[0].date"]', day)
    await page.fill(f'[name="{p}.days[0].start"]', "07:00")
    await page.fill(f'[name="{p}.days[0].end"]', "17:00")


def field_error(page, path: str):  # noqa: ANN001, ANN201
    return page.locator(f'.field-error[data-path="{path}"]')


async def test_applicant_submits_through_the_form_an_officer_decides_and_the_applicant_downloads_the_permit(
    local_cookies: None, stack: Stack, browser, screenshots: Path,  # noqa: ANN001, F811
) -> None:
    await stack.behave("parks", decision="silent")  # parks never answers: the officer decides in its place
    applicant = await signed_in_page(browser, stack, token_of(stack.http.headers))
    assert applicant.url.endswith("/web/applications")

    await applicant.goto("/web/applications/new")
    await applicant.fill('[name="applicant.company"]', "PT Contoh Film")
    await applicant.fill('[name="applicant.contact_name"]', "Sari")
    await applicant.fill('[name="applicant.email"]', "sari-at-contoh.id")  # not an address: the first error
    await applicant.fill('[name="applicant.phone"]', "+62 812 0000 0000")
    await applicant.fill('[name="production.title"]', "Senja di Kota")
    too_soon = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    await fill_location(applicant, 0, "Taman Suropati", too_soon)
    await applicant.click("[data-add-location]")  # a second location block, added by the page's script
    await fill_location(applicant, 1, "Taman Menteng", (dt.date.today() + dt.timedelta(days=2)).isoformat())
    await applicant.fill('[name="insurance.insurer"]', "PT Asuransi")
    await applicant.fill('[name="insurance.policy_number"]', "P-1")
    await applicant.fill('[name="insurance.coverage_idr"]', "5000000000")
    await applicant.fill('[name="insurance.valid_until"]', (dt.date.today() + dt.timedelta(days=365)).isoformat())
    await applicant.click("#application-form button[type=submit]")

    email_error = field_error(applicant, "applicant.email")
    await email_error.wait_for()
    assert await applicant.locator('[name="applicant.email"][aria-invalid="true"]').count() == 1
    await applicant.screenshot(path=str(screenshots / "applicant-form-field-error.png"), full_page=True)

    await applicant.fill('[name="applicant.email"]', "sari@contoh.id")  # the other fields kept their values
    await applicant.click("#application-form button[type=submit]")
    await field_error(applicant, "locations[0].days[0].date").wait_for()
    earliest = dt.date.fromisoformat(await applicant.locator("#earliest-feasible").inner_text())
    assert earliest > dt.date.today()
    await applicant.screenshot(path=str(screenshots / "applicant-form-lead-time.png"), full_page=True)

    await applicant.fill('[name="locations[0].days[0].date"]', (earliest + dt.timedelta(days=7)).isoformat())
    await applicant.fill('[name="locations[1].days[0].date"]', (earliest + dt.timedelta(days=8)).isoformat())
    await applicant.click("#application-form button[type=submit]")
    await applicant.wait_for_url("**/web/applications/PRM-*")
    application_id = applicant.url.rsplit("/", 1)[1]
    view = await stack.wait_for(application_id, lambda v: any(c["status"] == "submitted" for c in v["clearances"]))
    assert [len(loc["days"]) for loc in view["locations"]] == [1, 1]
    await applicant.locator('tr[data-agency="parks"] .c-submitted').wait_for(timeout=15_000)  # refreshed in place
    await applicant.screenshot(path=str(screenshots / "applicant-application.png"), full_page=True)

    officer = await signed_in_page(browser, stack, token_of(stack.officer), lang="id")
    assert officer.url.endswith("/web/officer")
    await officer.screenshot(path=str(screenshots / "officer-queue.png"), full_page=True)
    await officer.goto("/web/applications")
    await officer.click(f'tr[data-id="{application_id}"] a')
    await officer.select_option("#d-agency", "parks")
    await officer.select_option("#d-outcome", "approved")
    await officer.fill("#d-reason", "Taman dicek di lokasi; dinas tidak menjawab")
    await officer.fill("#d-conditions", "Jalur pejalan kaki tetap terbuka")
    await officer.click("#decide-form button[type=submit]")
    await officer.wait_for_url(f"**/web/applications/{application_id}")
    view = await stack.wait_for(application_id, lambda v: v["status"] in ("awaiting_payment", "issued"))
    parks = next(c for c in view["clearances"] if c["agency"] == "parks")
    assert parks["decided_by"].startswith("officer:") and parks["conditions"] == ["Jalur pejalan kaki tetap terbuka"]
    await officer.locator('tr[data-agency="parks"] .m-decided').first.wait_for(timeout=15_000)
    await officer.screenshot(path=str(screenshots / "officer-application.png"), full_page=True)

    if view["status"] == "awaiting_payment":
        paid = await stack.http.post(f"{stack.sim}/admin/payments",
                                     json={"permit_id": application_id, "amount_idr": view["fees"]["total_idr"]})
        assert paid.status_code < 300, paid.text
    await stack.wait_for(application_id, lambda v: v["status"] == "issued")
    download_link = applicant.locator("#download-permit")
    await download_link.wait_for(timeout=20_000)  # appears by the page's periodic refresh, no reload
    async with applicant.expect_download() as downloading:
        await download_link.click()
    download = await downloading.value
    pdf = Path(await download.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    await applicant.screenshot(path=str(screenshots / "applicant-issued.png"), full_page=True)


async def test_a_clerk_sees_only_its_agency_an_applicant_only_its_organisation_and_forms_need_their_token(
    local_cookies: None, stack: Stack, browser, screenshots: Path,  # noqa: ANN001, F811
) -> None:
    from tests.api.conftest import sample_body

    await stack.behave("parks", decision="silent")
    body = sample_body()
    body["locations"][0]["days"][0]["date"] = (dt.date.today() + dt.timedelta(weeks=8)).isoformat()
    body["insurance"]["valid_until"] = (dt.date.today() + dt.timedelta(weeks=20)).isoformat()
    submitted = await stack.submit(body, key=str(uuid.uuid4()))
    assert submitted.status_code == 202, submitted.text
    application_id = submitted.json()["id"]
    await stack.wait_for(application_id, lambda v: any(c["status"] == "submitted" for c in v["clearances"]))

    _, parks_token = await create_account(stack.pool, name="Parks desk", role="agency", agency="parks")
    _, police_token = await create_account(stack.pool, name="Police desk", role="agency", agency="police")
    _, other_token = await create_account(stack.pool, name="Budi", role="applicant", organisation="PT Lain Sinema")

    parks = await signed_in_page(browser, stack, parks_token)
    assert parks.url.endswith("/web/agency")
    row = parks.locator(f'#requests tr[data-id="{application_id}"]')
    await row.wait_for()
    assert "—" not in await row.locator("td").nth(3).inner_text()  # its own due date
    await parks.screenshot(path=str(screenshots / "agency-requests.png"), full_page=True)

    police = await signed_in_page(browser, stack, police_token)
    assert await police.locator(f'tr[data-id="{application_id}"]').count() == 0
    answer = await police.goto(f"/web/applications/{application_id}")
    assert answer is not None and answer.status == 404
    assert "Senja di Kota" not in await police.content()
    await police.screenshot(path=str(screenshots / "agency-other-404.png"))

    other = await signed_in_page(browser, stack, other_token)
    answer = await other.goto(f"/web/applications/{application_id}")
    assert answer is not None and answer.status == 404
    assert await other.locator(f'tr[data-id="{application_id}"]').count() == 0

    applicant = await signed_in_page(browser, stack, token_of(stack.http.headers))
    await applicant.goto(f"/web/applications/{application_id}")
    await applicant.fill("#c-reason", "moved to another week")
    await applicant.eval_on_selector("#cancel-form", "f => f.querySelector('[name=csrf_token]').remove()")
    await applicant.click("#cancel-form button[type=submit]")
    await applicant.wait_for_load_state()
    assert "security token" in await applicant.content()
    await applicant.screenshot(path=str(screenshots / "csrf-refused.png"))
    assert (await stack.status(application_id))["status"] not in ("withdrawn",)


async def test_an_officer_opens_the_committee_and_funds_and_the_sla_page_for_a_chosen_period(
    local_cookies: None, stack: Stack, browser, screenshots: Path,  # noqa: ANN001, F811
) -> None:
    officer = await signed_in_page(browser, stack, token_of(stack.officer))
    await officer.click('nav a[href="/web/officer/committee"]')
    await officer.wait_for_url("**/web/officer/committee")
    for programme in ("location_rebate", "shooting_days_grant", "first_feature_fund"):
        await officer.locator(f'svg.funds g[data-programme="{programme}"]').wait_for()
    await officer.screenshot(path=str(screenshots / "officer-committee-funds.png"), full_page=True)

    await officer.click('nav a[href="/web/officer/sla"]')
    await officer.wait_for_url("**/web/officer/sla")
    start = (dt.date.today() - dt.timedelta(days=7)).isoformat()
    await officer.fill("#from", start)
    await officer.fill("#to", dt.date.today().isoformat())
    await officer.click("#period-form button[type=submit]")
    await officer.wait_for_url(f"**/web/officer/sla?from={start}*")
    assert await officer.locator("#from").input_value() == start
    await officer.locator('#sla-chart g[data-agency="parks"]').wait_for()
    await officer.locator('#health g[data-agency="parks"] .outage').wait_for()
    await officer.screenshot(path=str(screenshots / "officer-sla-period.png"), full_page=True)
