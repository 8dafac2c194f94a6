"""Live events (API.md §10): publish after commit, subscribe over Server-Sent Events.

Two kinds of channel: `stream:<id>` (a stream's public `funding` and `status` events) and
`user:<id>` (one person's `notification` and `wallet` events). Services call
`publish_on_commit(channel, event, data)` inside their transaction: the event is published only
once the transaction commits (`transaction.on_commit`), so a rolled-back change sends nothing.

Each channel keeps a bounded backlog (`LIVE_EVENTS_BACKLOG` events) so a client that reconnects
with `Last-Event-ID` gets exactly what it missed. Event ids are `<milliseconds>-<sequence>`,
increasing within a channel.

Two brokers, one interface:
- `RedisBroker` (when `REDIS_URL` is set): a Redis stream per channel is the backlog (`XADD`
  with `MAXLEN`) and pub/sub fans each event out to every ASGI process; each process holds ONE
  pub/sub connection (`PSUBSCRIBE`) and hands events to its local subscribers.
- `MemoryBroker` (no Redis, e.g. the SQLite demo): one process only, a ring per channel.

Publishing never raises into the caller: the change it reports has committed already.
"""

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import transaction

logger = logging.getLogger("allmine.events")

# Internal events steer open streams and are never sent to a client.
REVOKED_EVENT = "_revoked"


@dataclass(frozen=True)
class Event:
    id: str
    event: str
    data: dict

    def encode(self) -> bytes:
        payload = json.dumps(self.data, separators=(",", ":"), ensure_ascii=False)
        return f"id: {self.id}\nevent: {self.event}\ndata: {payload}\n\n".encode()


# Handed to a subscriber's queue when its subscription ends (broker lost, queue overflowed).
CLOSED = Event(id="0-0", event="_closed", data={})


def event_key(event_id: str | None) -> tuple[int, int] | None:
    """`"1733390000000-3"` → `(1733390000000, 3)`; None for anything else."""
    if not event_id or len(event_id) > 40:
        return None
    head, _, tail = event_id.strip().partition("-")
    if not (head.isascii() and head.isdigit() and tail.isascii() and tail.isdigit()):
        return None
    return int(head), int(tail)


def stream_channel(stream_id: str) -> str:
    return f"stream:{stream_id}"


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


def publish(channel: str, event: str, data: dict) -> None:
    """Publish now (outside a transaction, or from an on-commit hook). Never raises."""
    try:
        broker().publish(channel, event, data)
    except Exception:
        logger.exception("live event %s on %s not published", event, channel)


def publish_on_commit(channel: str, event: str, data: dict) -> None:
    """Publish once the current transaction commits; nothing if it rolls back."""
    transaction.on_commit(lambda: publish(channel, event, data), robust=True)


class Subscription:
    """A local subscriber: an asyncio queue the broker fills from any thread."""

    def __init__(self, channel: str, maxsize: int):
        self.channel = channel
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self.closed = False

    def offer(self, event: Event) -> None:
        """Called on the subscriber's loop. A subscriber that cannot keep up is closed (its
        client reconnects with Last-Event-ID) rather than buffered without bound."""
        if self.closed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.close()

    def offer_threadsafe(self, event: Event) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed
            self.loop.call_soon_threadsafe(self.offer, event)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(CLOSED)


class _LocalSubscribers:
    """Subscriptions of this process by channel (shared by both brokers)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_channel: dict[str, set[Subscription]] = {}

    def add(self, subscription: Subscription) -> None:
        with self._lock:
            self._by_channel.setdefault(subscription.channel, set()).add(subscription)

    def remove(self, subscription: Subscription) -> None:
        with self._lock:
            subscribers = self._by_channel.get(subscription.channel)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._by_channel[subscription.channel]

    def of(self, channel: str) -> list[Subscription]:
        with self._lock:
            return list(self._by_channel.get(channel, ()))

    def all(self) -> list[Subscription]:
        with self._lock:
            return [s for subscribers in self._by_channel.values() for s in subscribers]

    def count(self) -> int:
        with self._lock:
            return sum(len(subscribers) for subscribers in self._by_channel.values())


class MemoryBroker:
    """One process: a ring of the last `backlog` events per channel (at most `max_channels`
    channels, least recently published dropped first)."""

    def __init__(self, *, backlog: int, max_channels: int = 10_000, queue_size: int = 1000):
        self.backlog_size = backlog
        self.max_channels = max_channels
        self.queue_size = queue_size
        self._lock = threading.Lock()
        self._rings: OrderedDict[str, deque] = OrderedDict()
        self._last = (0, 0)
        self.subscribers = _LocalSubscribers()

    def _next_id(self) -> str:
        now_ms = int(time.time() * 1000)
        last_ms, sequence = self._last
        self._last = (now_ms, 0) if now_ms > last_ms else (last_ms, sequence + 1)
        return f"{self._last[0]}-{self._last[1]}"

    def publish(self, channel: str, event: str, data: dict) -> Event:
        with self._lock:
            published = Event(id=self._next_id(), event=event, data=data)
            ring = self._rings.pop(channel, None) or deque(maxlen=self.backlog_size)
            ring.append(published)
            self._rings[channel] = ring
            while len(self._rings) > self.max_channels:
                self._rings.popitem(last=False)
        for subscription in self.subscribers.of(channel):
            subscription.offer_threadsafe(published)
        return published

    async def subscribe(self, channel: str) -> Subscription:
        subscription = Subscription(channel, self.queue_size)
        self.subscribers.add(subscription)
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        self.subscribers.remove(subscription)

    async def backlog(self, channel: str, after: tuple[int, int]) -> list[Event]:
        with self._lock:
            ring = list(self._rings.get(channel, ()))
        return [event for event in ring if event_key(event.id) > after]


# XADD to the channel's backlog stream, then PUBLISH the event with its id: one round trip.
_PUBLISH_SCRIPT = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2], 'd', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', KEYS[2], id .. '\\n' .. ARGV[2] .. '\\n' .. ARGV[3])
return id
"""


class RedisBroker:
    """Every process: Redis streams as backlogs, pub/sub for fan-out (see the module)."""

    def __init__(self, *, url: str, prefix: str, backlog: int, ttl: int, queue_size: int = 1000):
        import redis

        self.url = url
        self.prefix = prefix
        self.backlog_size = backlog
        self.ttl = ttl
        self.queue_size = queue_size
        self._sync = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._sync.register_script(_PUBLISH_SCRIPT)
        self.subscribers = _LocalSubscribers()
        self._reader: asyncio.Task | None = None
        self._async = None
        self._ready: asyncio.Event | None = None

    def _backlog_key(self, channel: str) -> str:
        return f"{self.prefix}:events:{channel}"

    def _pubsub_channel(self, channel: str) -> str:
        return f"{self.prefix}:live:{channel}"

    def publish(self, channel: str, event: str, data: dict) -> Event:
        payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        keys = [self._backlog_key(channel), self._pubsub_channel(channel)]
        event_id = self._script(keys=keys, args=[self.backlog_size, event, payload, self.ttl])
        return Event(id=event_id.decode(), event=event, data=data)

    async def _ensure_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            await self._ready.wait()
            return
        import redis.asyncio

        self._ready = asyncio.Event()
        self._async = redis.asyncio.Redis.from_url(self.url, socket_connect_timeout=2)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        await asyncio.wait_for(self._ready.wait(), timeout=5)

    async def _read(self) -> None:
        prefix = f"{self.prefix}:live:"
        try:
            async with self._async.pubsub() as pubsub:
                await pubsub.psubscribe(f"{prefix}*")
                self._ready.set()
                async for message in pubsub.listen():
                    if message["type"] != "pmessage":
                        continue
                    channel = message["channel"].decode()[len(prefix) :]
                    event_id, event, payload = message["data"].decode().split("\n", 2)
                    published = Event(id=event_id, event=event, data=json.loads(payload))
                    for subscription in self.subscribers.of(channel):
                        subscription.offer(published)
        except Exception:
            logger.exception("live events: the Redis subscription was lost")
        finally:
            # Clients reconnect (with Last-Event-ID) and the next subscriber starts a reader.
            for subscription in self.subscribers.all():
                subscription.close()

    async def subscribe(self, channel: str) -> Subscription:
        subscription = Subscription(channel, self.queue_size)
        self.subscribers.add(subscription)
        try:
            await self._ensure_reader()
        except BaseException:
            self.subscribers.remove(subscription)
            raise
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        self.subscribers.remove(subscription)

    async def backlog(self, channel: str, after: tuple[int, int]) -> list[Event]:
        entries = await self._async.xrange(
            self._backlog_key(channel), min=f"({after[0]}-{after[1]}", max="+"
        )
        return [
            Event(
                id=entry_id.decode(),
                event=fields[b"e"].decode(),
                data=json.loads(fields[b"d"]),
            )
            for entry_id, fields in entries
        ]


@cache
def broker() -> MemoryBroker | RedisBroker:
    """This process's broker: Redis when `REDIS_URL` is set, else in memory."""
    backlog = settings.LIVE_EVENTS_BACKLOG
    if settings.LIVE_EVENTS_REDIS_URL:
        return RedisBroker(
            url=settings.LIVE_EVENTS_REDIS_URL,
            prefix=settings.LIVE_EVENTS_PREFIX,
            backlog=backlog,
            ttl=settings.LIVE_EVENTS_BACKLOG_TTL,
        )
    return MemoryBroker(backlog=backlog)
