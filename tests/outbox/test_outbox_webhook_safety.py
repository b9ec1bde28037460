"""The relay sends only where the URL rule allows, at send time, and no receiver can stall it or hold the database.

Real receivers on loopback (uvicorn, or a bare TCP listener that counts connections), a real PostgreSQL;
only the rule's resolver is scripted (tests/fake_dns.py), so a host can "now" resolve somewhere private.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
from outbox_samples import Receiver, local_relay, note, secret_for
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from activities.outbox_relay import OutboxRelay
from store import outbox
from tests.fake_dns import FakeDns
from tests.servers import serve


async def row(pool: asyncpg.Pool, key: str) -> asyncpg.Record:
    return await pool.fetchrow("SELECT * FROM notification_outbox WHERE key = $1", key)


@asynccontextmanager
async def tcp_listener() -> AsyncIterator[tuple[int, list[int]]]:
    """A bare TCP port on 127.0.0.1 and the list of connections it accepted (a 1 for each)."""
    accepted: list[int] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], accepted
    finally:
        server.close()
        await server.wait_closed()


def one_route(handler) -> Starlette:
    return Starlette(routes=[Route("/hooks/{organisation}", handler, methods=["POST"])])


async def timed(work) -> tuple[object, float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await work
    return result, loop.time() - started


# ---- where it may send ------------------------------------------------------------------------------


async def test_a_host_that_now_resolves_to_a_private_address_is_refused_at_send_time_and_never_connected(
    pool, http, dns: FakeDns
):
    relay = OutboxRelay(pool, http, secret_for)  # the production setting: no loopback
    async with tcp_listener() as (port, accepted):
        dns.answers["hooks.contoh.id"] = ["127.0.0.1"]  # accepted at submission; the name points home now
        dns.answers["meta.contoh.id"] = ["93.184.215.14", "169.254.169.254"]
        await outbox.enqueue(pool, note(f"https://hooks.contoh.id:{port}/hooks/ORG-A"), "k-loopback")
        await outbox.enqueue(pool, note("https://meta.contoh.id/hooks/ORG-A"), "k-metadata")
        assert await relay.deliver_batch() == relay_result(claimed=2, dead=2)
        assert accepted == []  # not one connection
    loopback, metadata = await row(pool, "k-loopback"), await row(pool, "k-metadata")
    assert loopback["last_error"] == (
        "webhook URL refused, nothing sent: host hooks.contoh.id resolves to 127.0.0.1, "
        "which is a loopback address (127.0.0.1), not a public one"
    )
    assert "resolves to 169.254.169.254, which is a link-local address" in metadata["last_error"]
    assert loopback["dead_at"] is not None and metadata["dead_at"] is not None  # told once, not retried hot
    assert sorted(dns.lookups) == ["hooks.contoh.id", "meta.contoh.id"]
    assert await relay.deliver_batch(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)) == relay_result()


async def test_a_loopback_url_is_refused_without_the_local_setting(pool, http, receiver: Receiver):
    await outbox.enqueue(pool, note(receiver.hook("ORG-A")), "k-1")  # http://127.0.0.1:…, as the simulator's admin API
    assert await OutboxRelay(pool, http, secret_for).deliver_batch() == relay_result(claimed=1, dead=1)
    assert receiver.receipts == []
    assert "loopback address" in (await row(pool, "k-1"))["last_error"]


async def test_a_host_that_does_not_resolve_now_is_retried_with_backoff(pool, http, dns: FakeDns):
    await outbox.enqueue(pool, note("https://gone.contoh.id/hooks/ORG-A"), "k-1")
    now = dt.datetime.now(dt.UTC)
    assert await OutboxRelay(pool, http, secret_for).deliver_batch(now=now) == relay_result(claimed=1, retried=1)
    waiting = await row(pool, "k-1")
    assert waiting["last_error"].startswith("webhook host not resolved: host gone.contoh.id does not resolve")
    assert waiting["dead_at"] is None and waiting["next_attempt_at"] == now + dt.timedelta(seconds=5)


async def test_the_request_goes_to_the_address_checked_naming_the_host_as_given(pool, http, dns: FakeDns):
    seen: list[str] = []

    async def hook(request: Request) -> Response:
        seen.append(request.headers["host"])
        return Response(status_code=204)

    async with serve(one_route(hook)) as url:
        port = httpx.URL(url).port
        dns.answers["localhost"] = ["127.0.0.1"]  # the relay connects there, not wherever a second lookup says
        await outbox.enqueue(pool, note(f"http://localhost:{port}/hooks/ORG-A"), "k-1")
        assert await local_relay(pool, http).deliver_due() == 1
    assert seen == [f"localhost:{port}"] and dns.lookups == ["localhost"]


async def test_a_redirect_is_not_followed(pool, http, receiver: Receiver):
    async def moved(request: Request) -> Response:
        return RedirectResponse(receiver.hook(request.path_params["organisation"]), status_code=307)

    async with serve(one_route(moved)) as url:
        await outbox.enqueue(pool, note(f"{url}/hooks/ORG-A"), "k-1")
        assert await local_relay(pool, http).deliver_batch() == relay_result(claimed=1, dead=1)
    assert receiver.receipts == []  # the target was never asked
    assert (await row(pool, "k-1"))["last_error"] == (
        "HTTP 307 Temporary Redirect: redirects are not followed; answer 2xx at the webhook URL itself"
    )


# ---- what a receiver can do to it ------------------------------------------------------------------


async def test_an_endless_answer_is_read_only_up_to_the_cap_and_the_delivery_ends_long_before_the_deadline(
    pool, http
):
    streamed = [0]

    async def endless(request: Request) -> Response:
        async def forever():
            while True:
                streamed[0] += 4096
                yield b"x" * 4096
                await asyncio.sleep(0)

        return StreamingResponse(forever(), media_type="text/plain")

    async with serve(one_route(endless)) as url:
        await outbox.enqueue(pool, note(f"{url}/hooks/ORG-A"), "k-1")
        relay = local_relay(pool, http, deadline=10.0, max_response_bytes=64 * 1024)
        delivered, elapsed = await timed(relay.deliver_due())
        sent_when_done = streamed[0]
        await asyncio.sleep(0.3)
        assert streamed[0] - sent_when_done < 4 * 1024 * 1024  # the server was left (its buffers fill, then it stops)
    assert delivered == 1 and elapsed < 3.0  # the cap ended it, not the 10 s deadline
    assert sent_when_done >= 64 * 1024


async def test_an_answer_that_trickles_forever_ends_at_the_deadline(pool, http):
    async def trickle(request: Request) -> Response:
        async def forever():
            while True:
                yield b"."
                await asyncio.sleep(0.05)

        return StreamingResponse(forever(), media_type="text/plain")

    async with serve(one_route(trickle)) as url:
        await outbox.enqueue(pool, note(f"{url}/hooks/ORG-A"), "k-1")
        delivered, elapsed = await timed(local_relay(pool, http, deadline=1.0).deliver_due())
    assert delivered == 1  # it answered 200 at once; the body was never going to end
    assert 0.9 <= elapsed < 2.5


async def test_a_hanging_receiver_holds_up_no_other_row_and_no_transaction(pool, http, receiver: Receiver):
    release, asked = asyncio.Event(), asyncio.Event()

    async def hang(request: Request) -> Response:
        asked.set()
        await release.wait()
        return PlainTextResponse("too late")

    async with serve(one_route(hang)) as hang_url:
        await outbox.enqueue(pool, note(f"{hang_url}/hooks/ORG-A"), "k-hang")
        for i in range(3):
            await outbox.enqueue(pool, note(receiver.hook("ORG-A")), f"k-{i}")
        relay = local_relay(pool, http, deadline=3.0)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        started = loop.time()
        task = asyncio.create_task(relay.run(stop, interval=0.05))
        try:
            async with asyncio.timeout(2):
                await asked.wait()
                while len(receiver.accepted()) < 3:
                    await asyncio.sleep(0.02)
            assert loop.time() - started < 2  # delivered while the other one hangs
            stuck = await row(pool, "k-hang")
            assert stuck["locked_until"] is not None and stuck["attempts"] == 0 and not task.done()
            in_transaction = await pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%'"
            )
            assert in_transaction == 0
            async with pool.acquire() as other, other.transaction():
                await other.execute("SET LOCAL lock_timeout = '500ms'")  # a held row lock would fail this
                await other.execute("UPDATE notification_outbox SET detail = detail WHERE key = 'k-hang'")
            async with asyncio.timeout(5):
                while (await row(pool, "k-hang"))["attempts"] == 0:
                    await asyncio.sleep(0.05)
        finally:
            stop.set()
            release.set()
            await asyncio.wait_for(task, timeout=5)
    failed = await row(pool, "k-hang")
    assert failed["last_error"] == "no answer within 3 s" and failed["dead_at"] is None
    assert failed["locked_until"] is None and failed["next_attempt_at"] > dt.datetime.now(dt.UTC)
    assert loop.time() - started < 5
    assert receiver.accepted() == {"k-0": 1, "k-1": 1, "k-2": 1}


async def test_a_relay_that_dies_mid_send_leaves_the_row_to_be_sent_again_once_its_claim_expires(pool, http):
    asked, release = asyncio.Event(), asyncio.Event()
    received: list[str | None] = []

    async def first_hangs(request: Request) -> Response:
        received.append(request.headers.get("Idempotency-Key"))
        if len(received) == 1:
            asked.set()
            await release.wait()
        return Response(status_code=204)

    async with serve(one_route(first_hangs)) as url:
        await outbox.enqueue(pool, note(f"{url}/hooks/ORG-A"), "k-1")
        dying = asyncio.create_task(local_relay(pool, http).deliver_batch())
        await asyncio.wait_for(asked.wait(), timeout=5)
        dying.cancel()  # the process dies between the send and its outcome
        await asyncio.gather(dying, return_exceptions=True)
        claimed = await row(pool, "k-1")
        assert claimed["locked_until"] is not None and claimed["attempts"] == 0
        other = local_relay(pool, http)
        assert await other.deliver_due() == 0  # still claimed: nobody sends it meanwhile
        after_lease = claimed["locked_until"] + dt.timedelta(seconds=1)
        assert await other.deliver_due(now=after_lease) == 1
        release.set()
    assert received == ["k-1", "k-1"]  # the same key both times: the receiver drops the duplicate
    assert (await row(pool, "k-1"))["delivered_at"] == after_lease


async def test_two_relays_running_at_once_never_send_the_same_row_twice(pool, http, receiver: Receiver):
    keys = [f"k-{i:02}" for i in range(30)]
    for key in keys:
        await outbox.enqueue(pool, note(receiver.hook("ORG-A")), key)
    receiver.delay = 0.03  # sends overlap, within each relay and across the two
    stop = asyncio.Event()
    relays = [local_relay(pool, http, concurrency=4) for _ in range(2)]
    tasks = [asyncio.create_task(r.run(stop, interval=0.01, limit=3)) for r in relays]
    try:
        async with asyncio.timeout(10):
            while await outbox.pending_count(pool):
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # a second send, if there were one, would arrive now
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert sorted(r.key for r in receiver.receipts) == keys
    assert receiver.accepted() == dict.fromkeys(keys, 1)


def relay_result(**counts: int):
    from activities.outbox_relay import BatchResult

    return BatchResult(**counts)
