"""The status view keeps what the permit was last issued for: an amendment's places and dates count only once it is
cleared, paid for and issued (the public verification page shows the issued revision). On the dev server."""

from __future__ import annotations

import datetime as dt

from test_permit_updates import DAY_FEE, T, app_with_webhook, both_accepted, route, started, with_location
from wf_harness import running

from schemas.application import ShootDay
from schemas.contracts import UPDATE_AMEND, PlanInput
from schemas.decisions import Amendment, AmendmentResult, Outcome, Payment
from schemas.status import ApplicationStatus, location_views


async def test_the_view_keeps_the_issued_revision_until_an_amendment_is_issued(dev_env, task_queue):
    app = app_with_webhook()
    async with running(dev_env, task_queue, route(PlanInput(application=app, submitted_at=dt.datetime.now(dt.UTC))),
                       app=app, setup=started) as run:
        await both_accepted(run)
        await run.decide("parks", Outcome.approved)
        await run.decide("district", Outcome.approved)
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment", timeout=T)
        assert (await run.status()).issued is None
        await run.handle.signal("payment_received", Payment(payment_id="pay-1", permit_id=run.app_id,
                                                            amount_idr=4 * DAY_FEE, paid_at=dt.datetime.now(dt.UTC)))
        issued = await run.until(lambda v: v.status == ApplicationStatus.issued, "issued", timeout=T)
        assert issued.issued is not None and issued.permit is not None
        assert issued.issued.revision == 1 and not issued.amendment_pending
        assert issued.issued.issued_at == issued.permit.issued_at
        assert issued.issued.locations == location_views(app.locations) == issued.locations
        assert issued.issued.clearances == run.world.issued[0].clearances
        assert issued.issued.fees is not None and issued.issued.fees.paid_at is not None

        extra = ShootDay(date=app.locations[1].days[-1].date + dt.timedelta(days=1), start=dt.time(6), end=dt.time(18))
        amended = with_location(app, 1, days=[d.model_dump() for d in [*app.locations[1].days, extra]])
        await run.handle.execute_update(UPDATE_AMEND, Amendment(application=amended), result_type=AmendmentResult)
        view = await run.until(lambda v: v.status == ApplicationStatus.amended, "amended", timeout=T)
        assert view.amendment_pending and view.revision == 2
        assert view.issued == issued.issued  # the permit stands as issued
        assert view.locations == location_views(amended.locations) != view.issued.locations

        await run.until(lambda v: any(c.agency == "district" and c.revision == 2 and c.accepted_at for c in v.clearances),
                        "district r2", timeout=T)
        await run.decide("district", Outcome.approved, revision=2)
        view = await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "the difference due", timeout=T)
        assert view.amendment_pending and view.issued == issued.issued  # cleared, not yet paid for
        await run.handle.signal("payment_received", Payment(payment_id="pay-2", permit_id=run.app_id,
                                                            amount_idr=DAY_FEE, paid_at=dt.datetime.now(dt.UTC)))
        view = await run.until(lambda v: v.status == ApplicationStatus.issued, "issued again", timeout=T)
        assert view.issued is not None and view.issued.revision == 2 and not view.amendment_pending
        assert view.issued.locations == location_views(amended.locations)
        assert view.issued.clearances == run.world.issued[1].clearances
        await run.handle.terminate("test done")
