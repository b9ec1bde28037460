"""The pages in process over httpx: sign-in cookies, CSRF refusals, and what each account may reach."""

from __future__ import annotations

import uuid

from tests.api.conftest import sample_body
from tests.web.conftest import Pages, csrf_of


async def test_sign_in_sets_a_secure_http_only_lax_session_cookie_and_sign_out_clears_it(pages: Pages) -> None:
    page = await pages.http.get("/web/sign-in")
    assert page.status_code == 200 and 'name="token"' in page.text
    response = await pages.http.post("/web/sign-in", data={"csrf_token": csrf_of(page.text),
                                                           "token": pages.users.tokens["applicant"]})
    assert response.status_code == 303 and response.headers["location"] == "/web/applications"
    session = next(h for h in response.headers.get_list("set-cookie") if h.startswith("jfc_session="))
    assert "HttpOnly" in session and "Secure" in session and "SameSite=lax" in session
    mine = await pages.http.get("/web/applications")
    assert mine.status_code == 200 and "Sari" in mine.text

    out = await pages.http.post("/web/sign-out", data={"csrf_token": csrf_of(mine.text)})
    assert out.status_code == 303
    pages.http.cookies.clear()
    assert (await pages.http.get("/web/applications")).status_code == 303


async def test_a_wrong_token_is_refused_on_the_sign_in_page(pages: Pages) -> None:
    page = await pages.http.get("/web/sign-in")
    response = await pages.http.post("/web/sign-in", data={"csrf_token": csrf_of(page.text), "token": "jfc_nope"})
    assert response.status_code == 401 and "jfc_session" not in response.headers.get("set-cookie", "")


async def test_forms_without_their_csrf_token_are_refused_with_403_and_nothing_is_done(pages: Pages) -> None:
    page = await pages.http.get("/web/sign-in")
    refused = await pages.http.post("/web/sign-in", data={"token": pages.users.tokens["applicant"]})
    assert refused.status_code == 403 and "jfc_session" not in refused.headers.get("set-cookie", "")
    await pages.sign_in("applicant")
    for data in ({}, {"csrf_token": "0" * 64}, {"csrf_token": csrf_of(page.text)}):  # the pre-sign-in token too
        response = await pages.http.post("/web/applications", data={**data, "applicant.company": "PT Contoh Film"})
        assert response.status_code == 403, data
        assert "security token" in response.text or "token keamanan" in response.text
    assert (await pages.http.post("/web/sign-out", data={})).status_code == 403


async def test_pages_need_a_session(pages: Pages) -> None:
    for path in ("/web/applications", "/web/officer", "/web/agency", "/web/applications/new"):
        response = await pages.http.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/web/sign-in"), path
    fragment = await pages.http.get("/web/applications/PRM-ABCDEFGHIJKL/status", headers={"HX-Request": "true"})
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"] == "/web/sign-in"


async def test_another_organisations_application_is_a_404_page_like_the_json_api(pages: Pages) -> None:
    key = str(uuid.uuid4())
    submitted = await pages.app_http.post("/v1/permits", json=sample_body(), headers={
        **pages.users.headers("applicant"), "Idempotency-Key": key})
    assert submitted.status_code == 202, submitted.text
    application_id = submitted.json()["id"]

    await pages.sign_in("applicant")
    own = await pages.http.get(f"/web/applications/{application_id}")
    assert own.status_code == 200 and "Senja di Kota" in own.text

    pages.http.cookies.clear()
    await pages.sign_in("applicant_b")
    for path in (f"/web/applications/{application_id}", f"/web/applications/{application_id}/status",
                 f"/web/applications/{application_id}/document"):
        other = await pages.http.get(path)
        assert other.status_code == 404, path
        assert "Senja di Kota" not in other.text
    assert application_id not in (await pages.http.get("/web/applications")).text
    json_api = await pages.app_http.get(f"/v1/permits/{application_id}", headers=pages.users.headers("applicant_b"))
    assert json_api.status_code == 404


async def test_roles_reach_only_their_pages(pages: Pages) -> None:
    await pages.sign_in("agency:parks")
    assert (await pages.http.get("/web/officer")).status_code == 403
    assert (await pages.http.get("/web/applications/new")).status_code == 403
    assert (await pages.http.get("/web/agency")).status_code == 200
    pages.http.cookies.clear()
    await pages.sign_in("officer")
    assert (await pages.http.get("/web/officer")).status_code == 200


async def test_the_language_switch_keeps_to_our_pages(pages: Pages) -> None:
    english = await pages.http.get("/web/lang/en?next=/web/sign-in")
    assert english.status_code == 303 and english.headers["location"] == "/web/sign-in"
    assert "Account token" in (await pages.http.get("/web/sign-in")).text
    away = await pages.http.get("/web/lang/id?next=https://evil.example/")
    assert away.headers["location"] == "/web/"
    assert "Token akun" in (await pages.http.get("/web/sign-in")).text


async def test_static_files_are_served_from_the_project(pages: Pages) -> None:
    htmx = await pages.http.get("/web/static/vendor/htmx/htmx.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text[:2000]
