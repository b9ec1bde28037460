"""The relay delivers each queued notification once, signed, through outages, to a real receiver on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import httpx
from outbox_samples import APPLICATION_ID, Receiver, local_relay, note
from structlog.testing import capture_logs

from activities.outbox_relay import OutboxRelay
from store import outbox
from tests.servers import free_port, serve


def soon(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


async def row(pool: asyncpg.Pool, key: str) -> asyncpg.Record:
    return await pool.fetchrow("SELECT * FROM notification_outbox WHERE key = $1", key)


async def test_delivers_once_signed_with_the_idempotency_key(pool, relay: OutboxRelay, receiver: Receiver):
    await outbox.enqueue(pool, note(receiver.hook("ORG-A")), "k-1")
    with capture_logs() as logs:
        assert await relay.deliver_due() == 1
        assert await relay.deliver_due(now=soon(3600)) == 0
    [receipt] = receiver.receipts
    assert (receipt.organisation, receipt.key, receipt.signed, receipt.status) == ("ORG-A", "k-1", True, 200)
    stored = await row(pool, "k-1")
    assert receipt.body == {
        "key": "k-1", "application_id": APPLICATION_ID, "kind": "payment_due",
        "detail": "1500000 IDR by 2027-01-05", "created_at": stored["created_at"].isoformat(),
    }  # fmt: skip
    assert stored["delivered_at"] is not None and stored["attempts"] == 1 and stored["last_error"] is None
    assert "1500000" not in repr(logs)  # counts are logged, never bodies
    assert {"claimed": 1, "delivered": 1, "retried": 0, "dead": 0}.items() <= logs[0].items()


async def test_each_organisation_signs_with_its_own_secret(pool, http, receiver: Receiver):
    await outbox.enqueue(pool, note(receiver.hook("ORG-B"), organisation="ORG-A"), "k-1")  # signed for A, checked as B
    assert await local_relay(pool, http).deliver_due() == 0
    [receipt] = receiver.receipts
    assert (receipt.signed, receipt.status) == (False, 401)
    assert (await row(pool, "k-1"))["dead_at"] is not None  # a 401 is a permanent refusal


async def test_an_outage_is_retried_after_the_backoff_and_delivered_once(pool, relay: OutboxRelay, receiver: Receiver):
    await outbox.enqueue(pool, note(receiver.hook("ORG-A")), "k-1")
    receiver.script = [503]
    first = soon(0)
    assert await relay.deliver_due(now=first) == 0
    failed = await row(pool, "k-1")
    assert (failed["attempts"], failed["last_error"]) == (1, "HTTP 503 Service Unavailable")
    assert failed["next_attempt_at"] == first + dt.timedelta(seconds=5)
    assert await relay.deliver_due(now=first + dt.timedelta(seconds=4)) == 0  # not due yet: nothing sent
    assert len(receiver.receipts) == 1
    assert await relay.deliver_due(now=first + dt.timedelta(seconds=5)) == 1
    assert [r.status for r in receiver.receipts] == [503, 200]
    assert receiver.accepted() == {"k-1": 1}
    assert (await row(pool, "k-1"))["delivered_at"] is not None


async def test_retry_after_is_honoured(pool, relay: OutboxRelay, receiver: Receiver):
    await outbox.enqueue(pool, note(receiver.hook("ORG-A")), "k-1")
    receiver.script = [(429, {"Retry-After": "120"})]
    now = soon(0)
    await relay.deliver_due(now=now)
    assert (await row(pool, "k-1"))["next_attempt_at"] == now + dt.timedelta(seconds=120)


async def test_a_refusal_is_dead_with_its_reason_and_never_sent_again(pool, relay: OutboxRelay, receiver: Receiver):
    await outbox.enqueue(pool, note(receiver.hook("ORG-A")), "k-1")
    receiver.script = [400]
    assert await relay.deliver_batch() == relay_result(claimed=1, dead=1)
    dead = await row(pool, "k-1")
    assert dead["dead_at"] is not None and dead["delivered_at"] is None
    assert dead["last_error"] == "HTTP 400 Bad Request"
    assert await relay.deliver_due(now=soon(86_400)) == 0
    assert len(receiver.receipts) == 1 and await outbox.pending_count(pool) == 0


async def test_an_unusable_url_is_dead(pool, relay: OutboxRelay):
    await outbox.enqueue(pool, note("ftp://hooks.example/jfc"), "k-1")
    await relay.deliver_due()
    dead = await row(pool, "k-1")
    assert dead["dead_at"] is not None
    assert dead["last_error"] == "webhook URL refused, nothing sent: must be an https URL (https://…)"


async def test_an_unreachable_webhook_is_retried_later_not_lost(pool, relay: OutboxRelay):
    port = free_port()  # nothing listens there yet: connection refused
    late = Receiver()
    await outbox.enqueue(pool, note(f"http://127.0.0.1:{port}/hooks/ORG-A"), "k-1")
    now = soon(0)
    assert await relay.deliver_due(now=now) == 0
    waiting = await row(pool, "k-1")
    assert waiting["attempts"] == 1 and waiting["last_error"].startswith("ConnectError")
    assert waiting["delivered_at"] is None and waiting["dead_at"] is None
    assert await outbox.pending_count(pool) == 1
    async with serve(late.app(), port=port):  # the applicant's server comes back
        assert await relay.deliver_due(now=now + dt.timedelta(seconds=5)) == 1
    assert late.accepted() == {"k-1": 1} and late.receipts[0].signed


async def test_two_relays_deliver_each_of_twenty_rows_exactly_once(pool, http, receiver: Receiver):
    keys = [f"k-{i:02}" for i in range(20)]
    for key in keys:
        await outbox.enqueue(pool, note(receiver.hook("ORG-A")), key)
    receiver.delay = 0.02  # slow enough that the two batches overlap
    relays = [local_relay(pool, http) for _ in range(2)]

    async def drain(relay: OutboxRelay) -> int:
        delivered = 0
        while (batch := await relay.deliver_batch(limit=3)).claimed:
            delivered += batch.delivered
        return delivered

    counts = await asyncio.gather(*(drain(r) for r in relays))
    assert sum(counts) == 20
    assert sorted(r.key for r in receiver.receipts) == keys  # each key received once, by one relay or the other
    assert receiver.accepted() == dict.fromkeys(keys, 1)
    assert await outbox.pending_count(pool) == 0


async def test_the_run_loop_delivers_until_stopped(pool, relay: OutboxRelay, receiver: Receiver):
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop, interval=0.05))
    await outbox.enqueue(pool, note(receiver.hook("ORG-A")), "k-1")
    async with asyncio.timeout(5):
        while not receiver.receipts:
            await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, timeout=2)
    assert receiver.accepted() == {"k-1": 1}


async def test_the_run_loop_outlives_a_database_outage(database_url: str, http: httpx.AsyncClient):
    from store.pool import open_pool

    pool = await open_pool(database_url, max_size=1)
    await pool.close()
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(local_relay(pool, http).run(stop, interval=0.05))
        await asyncio.sleep(0.2)
        assert not task.done()
        stop.set()
        await asyncio.wait_for(task, timeout=7)
    assert "outbox_unavailable" in [e["event"] for e in logs]


def relay_result(**counts: int):
    from activities.outbox_relay import BatchResult

    return BatchResult(**counts)


async def test_a_missing_signing_secret_waits_and_sends_nothing_unsigned(pool, http, receiver: Receiver):
    def no_secret(organisation_id: str | None) -> bytes:
        raise KeyError(organisation_id)

    await outbox.enqueue(pool, note(receiver.hook("ORG-A")), "k-1")
    assert await local_relay(pool, http, secret_for=no_secret).deliver_due() == 0
    waiting = await row(pool, "k-1")
    assert waiting["last_error"].startswith("no signing secret") and waiting["dead_at"] is None
    assert receiver.receipts == []
