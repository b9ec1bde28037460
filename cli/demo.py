"""`jfc demo`: realistic applications submitted to a running stack, watched live to issued."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from config.settings import Settings

FINAL = {"issued", "completed", "rejected", "withdrawn", "lapsed"}
STYLE = {
    "approved": "green", "approved_with_conditions": "green", "deemed_approved": "green",
    "rejected": "red", "withdrawn": "red", "information_required": "yellow",
    "agency_unreachable": "red", "waiting_on_dependency": "dim", "submitting": "cyan", "submitted": "cyan",
}  # fmt: skip

# How the simulated agencies behave during the demo: quick, with conditions where real ones set them.
DEMO_BEHAVIOUR = {
    "parks": {"decision": "approve", "decision_delay_ms": 1500},
    "district": {"decision": "approve", "decision_delay_ms": 1000},
    "transport": {"decision": "conditions", "decision_delay_ms": 2000},
    "police": {"decision": "conditions", "decision_delay_ms": 2500},
    "fire": {"decision": "conditions", "decision_delay_ms": 2000},
    "heritage": {"decision": "conditions", "decision_delay_ms": 2000},
    "aviation": {"decision": "approve", "decision_delay_ms": 1500},
    "culture_ministry": {"decision": "approve", "decision_delay_ms": 1500},
    "transit": {"decision": "approve", "decision_delay_ms": 1500},
}


def demo_applications(first_day: dt.date) -> list[dict[str, Any]]:
    """A park shoot; a road closure with police and pyrotechnics; a foreign crew with a drone in Kota Tua."""
    day = first_day.isoformat()
    next_day = (first_day + dt.timedelta(days=1)).isoformat()
    insurance = {"insurer": "PT Asuransi Sinar", "policy_number": "POL-2027-001", "coverage_idr": 5_000_000_000,
                 "valid_until": (first_day + dt.timedelta(days=60)).isoformat()}  # fmt: skip
    applicant = {"company": "PT Contoh Film", "country": "ID", "contact_name": "Sari",
                 "email": "sari@contoh.id", "phone": "+62 812 0000 0000"}  # fmt: skip
    location = {"city": "Jakarta Pusat", "vehicles": 3, "road_use": "none", "drone": False,
                "pyrotechnics": False, "prop_weapons": False}  # fmt: skip
    return [
        {
            "applicant": applicant,
            "production": {"title": "Senja di Kota", "kind": "feature_film", "synopsis": "A love story at dusk."},
            "locations": [{**location, "name": "Taman Suropati", "kind": "park", "address": "Menteng",
                           "lat": -6.1995, "lon": 106.8325, "crew_size": 40,
                           "days": [{"date": day, "start": "06:00", "end": "18:00"}]}],  # fmt: skip
            "insurance": insurance,
        },
        {
            "applicant": {**applicant, "company": "PT Laga Sinema"},
            "production": {"title": "Kejar Malam", "kind": "series", "synopsis": "A car chase on Sudirman."},
            "locations": [{**location, "name": "Jalan Jenderal Sudirman", "kind": "public_street",
                           "address": "Sudirman, Tanah Abang", "lat": -6.2146, "lon": 106.8185,
                           "crew_size": 80, "vehicles": 12, "road_use": "full_closure", "pyrotechnics": True,
                           "days": [{"date": day, "start": "00:00", "end": "05:00"},
                                    {"date": next_day, "start": "00:00", "end": "05:00"}]}],  # fmt: skip
            "insurance": insurance,
        },
        {
            "applicant": {**applicant, "company": "PT Mitra Produksi (for Seoul Pictures)"},
            "production": {"title": "Batavia Skies", "kind": "documentary", "synopsis": "Old Batavia from above."},
            "locations": [{**location, "name": "Museum Fatahillah, Kota Tua", "kind": "heritage_site",
                           "address": "Jl. Taman Fatahillah No.1", "city": "Jakarta Barat",
                           "lat": -6.1352, "lon": 106.8133, "crew_size": 25, "drone": True,
                           "days": [{"date": day, "start": "05:30", "end": "09:00"}]}],  # fmt: skip
            "foreign_crew": [{"name": "Kim Ji-woo", "nationality": "KR", "passport_number": "M1234567",
                              "role": "director"}],  # fmt: skip
            "insurance": insurance,
        },
    ]


def incentive_permit(first_day: dt.date) -> dict[str, Any]:
    """An eight-day feature shoot in a park: long enough for the location rebate and the shooting-days grant."""
    body = demo_applications(first_day)[0]
    days = [{"date": (first_day + dt.timedelta(days=i)).isoformat(), "start": "06:00", "end": "18:00"} for i in range(8)]
    location = {**body["locations"][0], "name": "Taman Menteng", "address": "Jl. HOS Cokroaminoto", "days": days}
    insurance = {**body["insurance"], "valid_until": (first_day + dt.timedelta(days=60)).isoformat()}
    return {**body, "production": {"title": "Anak Kota", "kind": "feature_film", "synopsis": "A first feature."},
            "locations": [location], "insurance": insurance}


def demo_incentives(permit_id: str, fiscal_year: int) -> list[dict[str, Any]]:
    """One application to each programme, all on the eight-day shoot."""
    money = {"permit_id": permit_id, "fiscal_year": fiscal_year, "planned_jakarta_spend_idr": 8_000_000_000,
             "planned_post_production_idr": 1_000_000_000, "crew_total": 60, "crew_indonesian": 52}
    return [
        {**money, "programme": "location_rebate"},
        {**money, "programme": "shooting_days_grant"},
        {**money, "programme": "first_feature_fund", "fiscal_year": 2027, "director_first_feature": True,
         "project": {"director_name": "Ayu Lestari", "director_nationality": "ID", "synopsis": "A first feature.",
                     "requested_grant_idr": 1_000_000_000, "call_id": "FFF-2027-1"}},
    ]


async def run_demo(settings: Settings, console: Console, timeout: float) -> int:
    api, sim = settings.public_base_url, settings.simulator_url
    tokens_file = settings.state_dir / "demo-tokens.json"
    try:
        applicant = json.loads(tokens_file.read_text())["applicant"]
    except (FileNotFoundError, KeyError, ValueError):
        console.print(f"[red]no demo applicant token in {tokens_file}; start the stack with `make up` first[/]")
        return 2
    async with httpx.AsyncClient(timeout=10.0, headers={"Authorization": f"Bearer {applicant}"}) as http:
        try:
            for code, behaviour in DEMO_BEHAVIOUR.items():
                (await http.put(f"{sim}/admin/agencies/{code}", json=behaviour)).raise_for_status()
        except httpx.HTTPError as exc:
            console.print(f"[red]cannot reach the agency simulator at {sim} ({exc}); is `make up` running?[/]")
            return 2
        ids = await _submit_all(http, api, console)
        if ids is None:
            return 2
        result = await _watch(http, api, sim, ids, console, timeout)
        if result == 0:
            result = await _incentives(http, api, sim, console, timeout)
        return result


def first_demo_day() -> dt.date:
    """Far enough ahead for every demo application's lead time, whatever the holidays in between."""
    return dt.date.today() + dt.timedelta(days=45)


def example_application() -> str:
    """The park shoot, as a body for `POST /v1/permits` (the README's `application.json`)."""
    return json.dumps(demo_applications(first_demo_day())[0], indent=2)


async def _submit_all(http: httpx.AsyncClient, api: str, console: Console,
                      bodies: list[dict[str, Any]] | None = None) -> list[str] | None:
    ids = []
    for body in bodies or demo_applications(first_demo_day()):
        key = f"demo-{uuid.uuid4()}"
        response = await http.post(f"{api}/v1/permits", json=body, headers={"Idempotency-Key": key})
        if response.status_code == 422 and response.json().get("earliest_feasible_start"):
            later = dt.date.fromisoformat(response.json()["earliest_feasible_start"])
            body = next(b for b in [*demo_applications(later), incentive_permit(later)]
                        if b["production"] == body["production"])
            response = await http.post(f"{api}/v1/permits", json=body, headers={"Idempotency-Key": key})
        if response.status_code != 202:
            console.print(f"[red]submission refused ({response.status_code}): {response.text}[/]")
            return None
        ids.append(response.json()["id"])
        console.print(f"submitted [bold]{body['production']['title']}[/] as {ids[-1]}")
    return ids


async def _watch(http: httpx.AsyncClient, api: str, sim: str, ids: list[str], console: Console, timeout: float) -> int:
    paid: set[str] = set()
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    with Live(console=console, refresh_per_second=4) as live:
        while True:
            views = [(await http.get(f"{api}/v1/permits/{i}")).json() for i in ids]
            live.update(_render(views))
            for view in views:
                if view["status"] == "awaiting_payment" and view["id"] not in paid:
                    await http.post(
                        f"{sim}/admin/payments", json={"permit_id": view["id"], "amount_idr": view["fees"]["total_idr"]}
                    )
                    paid.add(view["id"])
            if all(v["status"] in FINAL for v in views):
                break
            if loop.time() > give_up:
                console.print("[yellow]timed out; the applications go on in the background[/]")
                return 1
            await asyncio.sleep(1.0)
    for view in views:
        if view.get("permit"):
            console.print(f"{view['production_title']}: permit {view['permit']['number']} → {view['permit']['verify_url']}")
    return 0 if all(v["status"] in {"issued", "completed"} for v in views) else 1


def _render(views: list[dict[str, Any]]) -> Group:
    table = Table(title="JFC demo: applications, agency by agency", expand=True)
    for column in ("application", "status", "clearances", "fees", "permit"):
        table.add_column(column)
    for v in views:
        clearances = "\n".join(
            f"[{STYLE.get(c['status'], 'white')}]{c['agency']}: {c['status']}[/]"
            + (f" ({c['sla']})" if c.get("sla") else "")
            for c in v.get("clearances", [])
        )
        fees = v.get("fees") or {}
        fee_text = f"Rp {fees['total_idr']:,}" + (" paid" if fees.get("paid_at") else "") if fees else ""
        permit = (v.get("permit") or {}).get("number", "")
        table.add_row(f"{v['production_title']}\n[dim]{v['id']}[/]", v["status"], clearances, fee_text, permit)
    return Group(table)


INCENTIVE_SHOWN = {"awaiting_photography", "waitlisted", "ineligible", "rejected", "withdrawn", "expired", "lapsed"}


async def _incentives(http: httpx.AsyncClient, api: str, sim: str, console: Console, timeout: float) -> int:
    """An eight-day shoot, issued; then one application to each incentive programme, watched to its reservation."""
    first_day = first_demo_day()
    permit_ids = await _submit_all(http, api, console, [incentive_permit(first_day)])
    if permit_ids is None or await _watch(http, api, sim, permit_ids, console, timeout):
        return 1
    permit = (await http.get(f"{api}/v1/permits/{permit_ids[0]}")).json()
    fiscal_year = dt.date.fromisoformat(permit["locations"][0]["days"][0]["date"]).year
    ids = []
    for body in demo_incentives(permit_ids[0], fiscal_year):
        response = await http.post(f"{api}/v1/incentives", json=body, headers={"Idempotency-Key": f"demo-{uuid.uuid4()}"})
        if response.status_code != 202:
            console.print(f"[red]incentive refused ({response.status_code}): {response.text}[/]")
            return 1
        ids.append(response.json()["id"])
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    with Live(console=console, refresh_per_second=4) as live:
        while True:
            views = [(await http.get(f"{api}/v1/incentives/{i}")).json() for i in ids]
            live.update(_render_incentives(views))
            settled = [v["status"] in INCENTIVE_SHOWN or (v["programme"] == "first_feature_fund" and any(
                e["event"] == "entered_call" for e in v["timeline"])) for v in views]
            if all(settled):
                break
            if loop.time() > give_up:
                console.print("[yellow]timed out; the incentives go on in the background[/]")
                return 1
            await asyncio.sleep(1.0)
    console.print("The rebate and the grant wait for photography to begin; the first-feature application waits for its "
                  "call's deadline. `jfc fund show --year " + str(fiscal_year) + "` shows the funds.")
    return 0 if all(v["status"] not in {"ineligible", "rejected"} for v in views) else 1


def _render_incentives(views: list[dict[str, Any]]) -> Group:
    table = Table(title="JFC demo: incentives", expand=True)
    for column in ("incentive", "status", "eligibility", "reserved", "certificates"):
        table.add_column(column)
    for v in views:
        failed = [c["rule"] for c in v.get("eligibility", []) if not c["ok"]]
        eligibility = "[green]all rules met[/]" if v.get("eligibility") and not failed else (
            "[red]failed: " + ", ".join(failed) + "[/]" if failed else "")
        reserved = f"Rp {v['reserved_idr']:,}" if v.get("reserved_idr") else ""
        certificates = ", ".join(c["number"] for c in v.get("certificates", []))
        table.add_row(f"{v['programme']}\n[dim]{v['id']}[/]", v["status"], eligibility, reserved, certificates)
    return Group(table)
