"""The gateway's outbox: everything it publishes, kept on disk until it is safe to forget.

Store and forward. Every message the gateway publishes is first appended here (SQLite in WAL
mode, in `[gateway] state_dir`), with a sequence number that orders it. The publisher drains the
outbox in that order at QoS 1. A message is forgotten:

- once the broker acknowledged it, for what nobody records (wearer state, nudges, Home Assistant
  discovery): the broker is where they are meant to be;
- once a recorder confirmed that it is in InfluxDB (or dead-lettered), for what is recorded
  (events, minutes, device and gateway health): those carry their sequence number, and a broker
  acknowledgement only says the broker has them, not that anybody will ever read them;
- once it expired, for a message that must not arrive late (a desk command: a desk that moves
  long after the wearer asked is a hazard). It is counted as dropped.

What is not confirmed is sent again: after a gateway restart, when a recorder reports that it
started without its broker session, and after `replay_after_s` (doubling with each attempt, up to
an hour). A recorder writes idempotently, so a replay costs traffic, never a doubled point.

Limits: the outbox holds at most `max_bytes` of payloads (default 1 GiB: about four days of a
120-sensor gateway's output, docs/live-path.md). A message that does not fit, or that the disk
refuses (full, read-only), is not stored: it is counted in `dropped` by channel and logged, and
the gateway's health report carries the count. Nothing is dropped silently; nothing stored is
ever dropped.

Thread-safe: the analytics thread appends, the publisher thread reads, marks and deletes. One
SQLite connection behind a lock.
"""

from __future__ import annotations

import collections
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1 << 30
REPLAY_CAP_S = 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,      -- publishing order; recorded messages carry it as "seq"
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    retain INTEGER NOT NULL,
    confirm INTEGER NOT NULL,     -- 1: kept until a recorder confirms it
    created REAL NOT NULL,        -- unix seconds
    sent REAL,                    -- unix seconds it last went to the broker; NULL: due
    attempts INTEGER NOT NULL DEFAULT 0,
    expires REAL                  -- unix seconds after which it is never sent; NULL: never
);
CREATE INDEX IF NOT EXISTS due ON outbox(seq) WHERE sent IS NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_MEASURE = (
    "SELECT count(*), coalesce(sum(length(payload)), 0) FROM outbox"
    " WHERE seq BETWEEN ? AND ? AND confirm = ?"
)
_DELETE = "DELETE FROM outbox WHERE seq BETWEEN ? AND ? AND confirm = ?"


@dataclass(frozen=True, slots=True)
class Pending:
    """A message to append: its payload is made once its sequence number is known."""

    topic: str
    encode: Callable[[int], bytes]  # seq -> payload
    retain: bool = False
    confirm: bool = False  # kept until a recorder confirms it (it carries its seq)
    expires_s: float | None = None  # unix seconds: not sent after this (nor kept)

    @property
    def channel(self) -> str:
        return self.topic.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Entry:
    """A stored message due to be published."""

    seq: int
    topic: str
    payload: bytes
    retain: bool
    confirm: bool
    expires_s: float | None = None


@dataclass(frozen=True, slots=True)
class Depth:
    """How much the outbox holds."""

    messages: int
    bytes: int
    oldest_s: float  # age of the oldest message (0 when empty)


class Outbox:
    """A durable, ordered message store (see the module docstring).

    `path` None keeps it in memory (nothing survives a restart). Raises `OSError` or
    `sqlite3.DatabaseError` if the file cannot be opened as an outbox.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        replay_after_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.replay_after_s = replay_after_s
        self._clock = clock
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            ":memory:" if path is None else str(path),
            check_same_thread=False,
            isolation_level=None,  # explicit transactions
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
        if "expires" not in columns:  # an outbox written before messages could expire
            self._db.execute("ALTER TABLE outbox ADD COLUMN expires REAL")
        self._db.execute(
            "CREATE INDEX IF NOT EXISTS expiring ON outbox(expires) WHERE expires IS NOT NULL"
        )
        row = self._db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()
        top = self._db.execute("SELECT max(seq) FROM outbox").fetchone()[0] or 0
        self._next_seq = max(row[0] if row else 1, top + 1)
        self._bytes = self._db.execute(
            "SELECT coalesce(sum(length(payload)), 0) FROM outbox"
        ).fetchone()[0]
        # everything not yet confirmed goes out again (a restart forgets what was in flight)
        resent = self._db.execute("UPDATE outbox SET sent = NULL WHERE sent IS NOT NULL").rowcount
        self.dropped: collections.Counter[str] = collections.Counter()  # channel -> messages
        self.replayed = 0
        if resent:
            log.info("outbox path=%s resending=%d", path, resent)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- the analytics thread -------------------------------------------------------------------

    def append(self, pending: Sequence[Pending]) -> int:
        """Store `pending` in order; returns how many were stored (the rest are counted)."""
        with self._lock:
            seq = self._next_seq
            rows = []
            size = 0
            now = self._clock()
            for p in pending:
                payload = p.encode(seq)
                if self._bytes + size + len(payload) > self.max_bytes:
                    self._drop(p, f"the outbox is full ({self.max_bytes} bytes)")
                    continue
                rows.append(
                    (seq, p.topic, payload, int(p.retain), int(p.confirm), now, p.expires_s)
                )
                size += len(payload)
                seq += 1
            if not rows:
                return 0
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT INTO outbox (seq, topic, payload, retain, confirm, created, expires)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_seq', ?)", (seq,)
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as err:  # disk full, read-only, I/O error: count, never raise
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                for row in rows:
                    self._drop_channel(row[1].rsplit("/", 1)[-1], str(err))
                return 0
            self._next_seq = seq
            self._bytes += size
            return len(rows)

    def _drop(self, p: Pending, reason: str) -> None:
        self._drop_channel(p.channel, reason)

    def _drop_channel(self, channel: str, reason: str) -> None:
        self.dropped[channel] += 1
        total = sum(self.dropped.values())
        if total & (total - 1) == 0:  # 1, 2, 4, 8...: loud, but not a line per message
            log.error("outbox dropped a %s message (%d so far): %s", channel, total, reason)

    # -- the publisher thread -------------------------------------------------------------------

    def due(self, limit: int) -> list[Entry]:
        """The next `limit` messages to publish, oldest first (what expired is dropped)."""
        self._expire()
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload, retain, confirm, expires FROM outbox"
                " WHERE sent IS NULL ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [Entry(r[0], r[1], bytes(r[2]), bool(r[3]), bool(r[4]), r[5]) for r in rows]

    def _expire(self) -> None:
        """Drop (and count) what expired before it was sent."""
        with self._lock:
            now = self._clock()
            try:
                self._db.execute("BEGIN")
                where = " FROM outbox WHERE expires < ? AND sent IS NULL"
                rows = self._db.execute("SELECT topic, length(payload)" + where, (now,)).fetchall()
                if rows:
                    self._db.execute("DELETE" + where, (now,))
                self._db.execute("COMMIT")
            except sqlite3.Error as err:  # tried again with the next call
                self._rollback(err)
                return
            for topic, size in rows:
                self._bytes -= size
                self._drop_channel(topic.rsplit("/", 1)[-1], "it expired before it was sent")

    def mark_sent(self, seqs: Iterable[int]) -> None:
        self._update(
            "UPDATE outbox SET sent = ?, attempts = attempts + 1 WHERE seq = ?",
            [(self._clock(), s) for s in seqs],
        )

    def published(self, seqs: Iterable[int]) -> None:
        """The broker acknowledged these: forget those nobody confirms."""
        self._delete([(s, s) for s in seqs], confirm=False)

    def confirm(self, ranges: Iterable[tuple[int, int]]) -> int:
        """A recorder confirmed these sequence numbers: forget them. Returns how many."""
        return self._delete(list(ranges), confirm=True)

    def unsend(self, seqs: Iterable[int]) -> None:
        """Publish these again (the broker refused them, or they never left)."""
        self._update("UPDATE outbox SET sent = NULL WHERE seq = ?", [(s,) for s in seqs])

    def replay_all(self) -> int:
        """Send again everything sent and not yet confirmed (a recorder lost its session)."""
        with self._lock:
            n = self._db.execute(
                "UPDATE outbox SET sent = NULL WHERE sent IS NOT NULL AND confirm = 1"
            ).rowcount
        self.replayed += n
        return n

    def replay_stale(self) -> int:
        """Send again what was sent long ago and never confirmed (each attempt waits twice as
        long, up to an hour). Returns how many."""
        with self._lock:
            n = self._db.execute(
                "UPDATE outbox SET sent = NULL WHERE sent IS NOT NULL AND confirm = 1"
                " AND sent < ? - min(? * (1 << min(attempts - 1, 16)), ?)",
                (self._clock(), self.replay_after_s, REPLAY_CAP_S),
            ).rowcount
        self.replayed += n
        return n

    def waiting(self) -> dict[str, int]:
        """Messages held, by channel (the topic's last level)."""
        with self._lock:
            rows = self._db.execute("SELECT topic FROM outbox").fetchall()
        return dict(collections.Counter(topic.rsplit("/", 1)[-1] for (topic,) in rows))

    def depth(self) -> Depth:
        with self._lock:
            count, oldest = self._db.execute("SELECT count(*), min(created) FROM outbox").fetchone()
        age = max(0.0, self._clock() - oldest) if oldest is not None else 0.0
        return Depth(messages=count, bytes=self._bytes, oldest_s=age)

    def _update(self, sql: str, params: list[tuple[float | int, ...]]) -> None:
        if not params:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.executemany(sql, params)
                self._db.execute("COMMIT")
            except sqlite3.Error as err:  # the publisher keeps its own record of what is out
                self._rollback(err)

    def _delete(self, ranges: Sequence[tuple[int, int]], *, confirm: bool) -> int:
        """Delete the messages in `ranges` (inclusive) of that kind; returns how many."""
        if not ranges:
            return 0
        with self._lock:
            try:
                self._db.execute("BEGIN")
                deleted = size = 0
                for lo, hi in ranges:
                    params = (lo, hi, int(confirm))
                    n, b = self._db.execute(_MEASURE, params).fetchone()
                    if n:
                        self._db.execute(_DELETE, params)
                        deleted, size = deleted + n, size + b
                self._db.execute("COMMIT")
            except sqlite3.Error as err:  # kept, and sent again later: costs a replay, no data
                self._rollback(err)
                return 0
            self._bytes -= size
            return deleted

    def _rollback(self, err: sqlite3.Error) -> None:
        log.error("outbox path=%s: %s", self.path, err)
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
