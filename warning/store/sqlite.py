"""The state store: SQLite in WAL mode, numbered migrations, one transaction per evaluation.

Everything the daemon must remember across a crash lives here: alert states
(live and drill apart), the history of transitions, recent observations for
windowed rules, feed health, the outbox (added by the dispatch stage's
migration) and the audit log.  An evaluation's states and the deliveries they
imply are written in one `transaction()`, so a crash neither loses nor repeats
a warning.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warning.model import (
    AlertState,
    AlertStatus,
    Coverage,
    FeedHealth,
    Level,
    Observation,
    ObservationKind,
    Transition,
    Value,
    freeze_values,
)
from warning.store.interface import FeedRecord
from warning.store.records import StoreError
from warning.turns import Turns

#: A commit that changed at least this many rows copies the log at once, after its turn
#: (`Store.transaction`); smaller ones leave their frames to the next such commit or to
#: the daemon's checkpoint every few seconds (`Store.checkpoint`).
BULK_ROWS = 1000
#: Frames (pages of 4 KiB) a checkpoint may leave for the write turn: copying them
#: holds every writer, a siren's claim included (4,000 frames: 16 MB, tens of ms).
TURN_FRAMES = 4000

#: Numbered migrations: (version, SQL). Append only; never edit a released one.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE alert_states (
            rule_id TEXT NOT NULL,
            area_id TEXT NOT NULL,
            drill INTEGER NOT NULL,
            state TEXT NOT NULL,
            level TEXT,
            alert_id TEXT NOT NULL,
            since TEXT,
            active_since TEXT,
            last_true TEXT,
            last_notified TEXT,
            event_id TEXT,
            fingerprint TEXT NOT NULL,
            value_json TEXT NOT NULL,
            PRIMARY KEY (rule_id, area_id, drill)
        );
        CREATE TABLE alert_log (
            id INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            kind TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            area_id TEXT NOT NULL,
            alert_id TEXT NOT NULL,
            level TEXT,
            previous_level TEXT,
            drill INTEGER NOT NULL,
            event_id TEXT,
            reason TEXT NOT NULL,
            value_json TEXT NOT NULL
        );
        CREATE INDEX alert_log_alert ON alert_log (alert_id);
        CREATE TABLE observations (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            event_id TEXT NOT NULL,
            time TEXT NOT NULL,
            body TEXT NOT NULL,
            received_at TEXT NOT NULL,
            UNIQUE (source, event_id, time, body)
        );
        CREATE INDEX observations_time ON observations (kind, time);
        CREATE TABLE feed_state (
            feed TEXT PRIMARY KEY,
            health TEXT NOT NULL,
            failures INTEGER NOT NULL,
            last_success TEXT,
            last_error TEXT,
            last_error_at TEXT,
            health_since TEXT
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail_json TEXT NOT NULL
        );
        """,
    ),
    (
        2,
        """
        CREATE TABLE alert_changes (
            seq INTEGER PRIMARY KEY,
            change_id TEXT NOT NULL UNIQUE,
            rule_id TEXT NOT NULL,
            drill INTEGER NOT NULL,
            kind TEXT NOT NULL,
            level TEXT,
            time TEXT NOT NULL
        );
        CREATE TABLE alert_change_areas (
            change_id TEXT NOT NULL REFERENCES alert_changes (change_id),
            area_id TEXT NOT NULL,
            PRIMARY KEY (change_id, area_id)
        );
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            dedup_key TEXT NOT NULL UNIQUE,
            change_id TEXT NOT NULL,
            change_seq INTEGER NOT NULL,
            rule_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            payload_json TEXT NOT NULL,
            priority INTEGER NOT NULL,
            drill INTEGER NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            due_at REAL NOT NULL,
            claimed_by TEXT,
            lease_until REAL,
            sent_at TEXT,
            provider_id TEXT,
            last_error TEXT,
            last_code TEXT,
            finished_at TEXT
        );
        CREATE INDEX outbox_due ON outbox (status, priority, due_at);
        CREATE INDEX outbox_rule ON outbox (rule_id, drill, status);
        CREATE TABLE outbox_areas (
            delivery_id INTEGER NOT NULL REFERENCES outbox (id),
            area_id TEXT NOT NULL,
            PRIMARY KEY (delivery_id, area_id)
        );
        CREATE TABLE opt_outs (
            phone TEXT PRIMARY KEY,
            time TEXT NOT NULL,
            code TEXT NOT NULL
        )
        """,
    ),
    (
        3,
        # The console's accounts and sessions, the two-person rule's pending manual
        # alerts, and silences of rules (read by the pipeline before it plans).
        """
        CREATE TABLE accounts (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            changed_at TEXT NOT NULL
        );
        CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            account TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
            csrf TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE TABLE login_failures (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            time TEXT NOT NULL
        );
        CREATE INDEX login_failures_key ON login_failures (key, time);
        CREATE TABLE approvals (
            id INTEGER PRIMARY KEY,
            requested_by TEXT NOT NULL,
            requested_at TEXT NOT NULL,
            request_json TEXT NOT NULL,
            status TEXT NOT NULL,
            decided_by TEXT,
            decided_at TEXT,
            change_id TEXT
        );
        CREATE TABLE silences (
            id INTEGER PRIMARY KEY,
            rule_id TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            reason TEXT NOT NULL,
            actor TEXT NOT NULL,
            ended_at TEXT
        )
        """,
    ),
    (
        4,
        # The change id is `change_id` everywhere (issue 11): stored siren and CAP
        # payloads written under the old key `alert_id` (an episode's name) move to it.
        # A change says who decided it (`model.ChangeKind`); older rows get the kind
        # their scope (`rule_id`) spelt.  `rule_id` keeps the scope newer changes
        # supersede older ones of: a rule id, or what a non-rule change is about.
        """
        ALTER TABLE alert_changes ADD COLUMN origin TEXT NOT NULL DEFAULT 'rule';
        UPDATE alert_changes SET origin = CASE
            WHEN change_id LIKE 'cancel-%' THEN 'cancel'
            WHEN rule_id LIKE 'manual-%' THEN 'manual'
            WHEN rule_id LIKE 'feed:%' THEN 'feed-health'
            WHEN rule_id LIKE 'siren:%' THEN 'siren-report'
            WHEN rule_id LIKE 'send-test:%' THEN 'send-test'
            WHEN rule_id IN ('siren-test', 'siren-stop', 'contacts') THEN rule_id
            ELSE 'rule' END;
        UPDATE outbox SET payload_json = json_set(json_remove(payload_json, '$.alert_id'),
            '$.change_id', json_extract(payload_json, '$.alert_id'))
        WHERE CASE WHEN json_valid(payload_json)
            THEN json_type(payload_json, '$.alert_id') IS NOT NULL
                AND json_type(payload_json, '$.change_id') IS NULL
            ELSE 0 END
        """,
    ),
    (
        5,
        # Sirens first (issue 15): an evaluation's SMS fan-out is owed from the commit of
        # its states and sirens until the transaction of its last batch marks it done.
        """
        CREATE TABLE fanout (
            id INTEGER PRIMARY KEY,
            drill INTEGER NOT NULL,
            transitions_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            done_at TEXT
        );
        CREATE INDEX fanout_pending ON fanout (done_at, drill)
        """,
    ),
    (
        6,
        # Residents' reports (warning/reports/): one row per accepted report, its
        # re-encoded photo apart; device and address are hashes kept for rate limits.
        """
        CREATE TABLE reports (
            code TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            channel TEXT NOT NULL,
            category TEXT NOT NULL,
            kelurahan TEXT NOT NULL,
            lon REAL,
            lat REAL,
            description TEXT NOT NULL,
            phone TEXT,
            device TEXT NOT NULL,
            address TEXT NOT NULL,
            group_code TEXT NOT NULL,
            counted INTEGER NOT NULL,
            status TEXT NOT NULL,
            decided_by TEXT,
            decided_at TEXT,
            reason TEXT
        );
        CREATE INDEX reports_place ON reports (kelurahan, category, created_at);
        CREATE INDEX reports_created ON reports (created_at);
        CREATE INDEX reports_device ON reports (device, created_at);
        CREATE INDEX reports_address ON reports (address, created_at);
        CREATE INDEX reports_decided ON reports (status, decided_at);
        CREATE TABLE report_photos (
            code TEXT PRIMARY KEY REFERENCES reports (code) ON DELETE CASCADE,
            media_type TEXT NOT NULL,
            data BLOB NOT NULL
        )
        """,
    ),
    (
        7,
        # Acknowledgement links (found by the token their SMS payload carries), the
        # acknowledgements themselves, Twilio's delivery receipts and the escalation
        # steps notified per (change, kelurahan).
        """
        CREATE INDEX outbox_ack ON outbox (json_extract(payload_json, '$.ack.token'));
        CREATE TABLE acknowledgements (
            change_id TEXT NOT NULL,
            recipient TEXT NOT NULL,
            name TEXT NOT NULL,
            grp TEXT NOT NULL,
            drill INTEGER NOT NULL,
            acknowledged_at TEXT NOT NULL,
            PRIMARY KEY (change_id, recipient)
        );
        CREATE TABLE delivery_receipts (
            id INTEGER PRIMARY KEY,
            provider_id TEXT NOT NULL,
            delivery_id INTEGER,
            status TEXT NOT NULL,
            error_code TEXT,
            received_at TEXT NOT NULL
        );
        CREATE INDEX delivery_receipts_delivery ON delivery_receipts (delivery_id, id);
        CREATE INDEX outbox_provider ON outbox (provider_id);
        CREATE INDEX outbox_change ON outbox (change_id);
        CREATE TABLE escalations (
            change_id TEXT NOT NULL,
            area_id TEXT NOT NULL,
            step INTEGER NOT NULL,
            grp TEXT NOT NULL,
            drill INTEGER NOT NULL,
            notified_at TEXT NOT NULL,
            PRIMARY KEY (change_id, area_id, step)
        )
        """,
    ),
    (
        8,
        # The siren ordering fence: the change sequence of the newest all-clear committed
        # to each siren (live, or a drill's), so an older command is never sent after it,
        # whatever happened to leases, workers or restarts in between.
        """
        CREATE TABLE siren_fences (
            siren TEXT NOT NULL,
            drill INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (siren, drill)
        );
        -- A provider outage of one channel (SMS): when live deliveries began to wait,
        -- when they flowed again and how many went out late.  Open while ended_at is NULL.
        CREATE TABLE delivery_outages (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            late INTEGER
        )
        """,
    ),
    (
        9,
        # Contacts in the store (issue 15): the SMS fan-out is written set-based
        # (INSERT ... SELECT) instead of row by row, and the daemon holds no Python
        # object per person.  People sharing a group, language, drill flag and area
        # set share one `contact_sets` row: the planner words each set's SMS once.
        """
        CREATE TABLE contact_sets (
            id INTEGER PRIMARY KEY,
            grp TEXT NOT NULL,
            language TEXT NOT NULL,
            drill INTEGER NOT NULL,
            people INTEGER NOT NULL DEFAULT 0,
            first_id INTEGER NOT NULL DEFAULT 0,
            last_id INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE contact_areas (
            set_id INTEGER NOT NULL,
            area_id TEXT NOT NULL,
            PRIMARY KEY (area_id, set_id)
        ) WITHOUT ROWID;
        CREATE TABLE contacts (
            id INTEGER PRIMARY KEY,
            phone TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            set_id INTEGER NOT NULL,
            line INTEGER NOT NULL
        );
        CREATE INDEX contacts_set ON contacts (set_id, id);
        -- begin_send looks for another row to the same phone or siren before every send:
        -- without this index each look scanned the whole outbox inside a write
        -- transaction (0.1 to 0.8 s per SMS once a city's fan-out is in it), holding
        -- the database from the sirens and the fan-out.
        CREATE INDEX outbox_recipient ON outbox (recipient, channel);
        -- A claim walks due rows in (priority, id) order (the rowid ends every index).
        CREATE INDEX outbox_claim ON outbox (status, priority);
        CREATE TABLE contact_book (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            digest TEXT NOT NULL,
            people INTEGER NOT NULL,
            loaded_at TEXT NOT NULL
        )
        """,
    ),
    (
        10,
        # The indexes a city's fan-out pays for on every row, trimmed (issue 15: the
        # fan-out is written at >= 50,000 rows/s whatever the outbox already holds).
        # - The acknowledgement token was an expression index: SQLite parsed each row's
        #   payload JSON as it was written, 100,000 parses for SMS that carry no link.
        #   It is a column now, set on the few linked SMS (officials, RT heads) only.
        # - `outbox_recipient` took an entry per SMS keyed by phone: each new fan-out's
        #   entries fell among every earlier event's, a page read and written per row,
        #   slower with every event kept.  What it served is indexed where it is needed:
        #   rows in flight (begin_send's look for an older one), siren rows, linked SMS.
        # - The provider's id is unknown until a send; `outbox_due` repeated
        #   `outbox_claim`'s (status, priority).
        """
        ALTER TABLE outbox ADD COLUMN ack_token TEXT;
        UPDATE outbox SET ack_token = json_extract(payload_json, '$.ack.token')
          WHERE channel = 'sms' AND json_extract(payload_json, '$.ack.token') IS NOT NULL;
        DROP INDEX IF EXISTS outbox_ack;
        CREATE INDEX outbox_ack ON outbox (ack_token) WHERE ack_token IS NOT NULL;
        CREATE INDEX outbox_linked ON outbox (change_id, recipient) WHERE ack_token IS NOT NULL;
        DROP INDEX IF EXISTS outbox_recipient;
        CREATE INDEX outbox_in_flight ON outbox (recipient, channel)
          WHERE claimed_by IS NOT NULL;
        CREATE INDEX outbox_siren ON outbox (recipient) WHERE channel = 'siren';
        DROP INDEX IF EXISTS outbox_provider;
        CREATE INDEX outbox_provider ON outbox (provider_id) WHERE provider_id IS NOT NULL;
        DROP INDEX IF EXISTS outbox_due
        """,
    ),
    (
        11,
        # A delivery's kelurahan are one of a few sets (the areas of a contact set a change
        # touches): each set is stored once and the outbox row names it.  `outbox_areas`
        # took a row and an index entry per SMS and read each new row back to find its id:
        # a fifth of what a city's fan-out cost (issue 15).  A set is its sorted area ids
        # as a JSON array; the subqueries below sort the old rows' areas the same way.
        # `area_set` names no foreign key: SQLite would look the set up for every row.
        """
        CREATE TABLE area_sets (
            id INTEGER PRIMARY KEY,
            areas TEXT NOT NULL UNIQUE
        );
        CREATE TABLE area_set_members (
            set_id INTEGER NOT NULL REFERENCES area_sets (id),
            area_id TEXT NOT NULL,
            PRIMARY KEY (set_id, area_id)
        ) WITHOUT ROWID;
        ALTER TABLE outbox ADD COLUMN area_set INTEGER;
        INSERT OR IGNORE INTO area_sets (areas)
          SELECT json_group_array(area_id) FROM (
            SELECT delivery_id, area_id FROM outbox_areas ORDER BY delivery_id, area_id)
          GROUP BY delivery_id;
        INSERT INTO area_set_members (set_id, area_id)
          SELECT s.id, j.value FROM area_sets s, json_each(s.areas) j;
        UPDATE outbox SET area_set = (
          SELECT s.id FROM area_sets s WHERE s.areas = (
            SELECT json_group_array(area_id) FROM (
              SELECT area_id FROM outbox_areas WHERE delivery_id = outbox.id ORDER BY area_id)))
          WHERE id IN (SELECT delivery_id FROM outbox_areas);
        DROP TABLE outbox_areas
        """,
    ),
)


def _iso(moment: datetime | None) -> str | None:
    """Aware UTC datetime as ISO text (None stays None)."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _time(text: str | None) -> datetime | None:
    """ISO text back to an aware UTC datetime."""
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def _json(value: Any) -> str:
    """Compact, stable JSON for storage."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class MissingDatabaseError(StoreError):
    """An operator's command found no database where the daemon keeps its state."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"no database at {path}: the daemon keeps its state in /var/lib/warning/warning.db"
            " ($STATE_DIRECTORY); set [state] path or run the command as the daemon does"
            " (this command never creates a database)"
        )


class CorruptDatabaseError(StoreError):
    """The state file is not a readable SQLite database."""

    def __init__(self, path: Path, error: sqlite3.DatabaseError) -> None:
        super().__init__(
            f"database {path} is corrupt or not a SQLite database ({error}):"
            " restore it from a backup (`warning backup`) or move it aside"
        )


class DatabaseReplacedError(StoreError):
    """The state file was deleted or replaced under the running process."""


@dataclass(frozen=True)
class Checkpoint:
    """What one checkpoint saw: frames in the write-ahead log, and how many are copied.

    `busy`: another connection was checkpointing; nothing was tried.
    """

    frames: int
    copied: int
    busy: bool = False

    @property
    def complete(self) -> bool:
        """Every frame of the log is in the database file (or there is no log)."""
        return not self.busy and self.copied >= self.frames

    @property
    def rest(self) -> int:
        """Frames still to copy (none known when another checkpoint was running)."""
        return self.frames - self.copied


class Store:
    """SQLite state of one daemon. Safe to share between threads (one connection each)."""

    def __init__(
        self,
        path: Path,
        migrations: Sequence[tuple[int, str]] = MIGRATIONS,
        *,
        create: bool = True,
    ) -> None:
        """Open (the daemon: creating) the database at `path`.

        `create=False` (operators' commands) never makes a database: a missing
        file is a `MissingDatabaseError` error naming the path, so a command run
        with the wrong state directory cannot enqueue into a fresh empty file.
        """
        self.path = path
        self._local = threading.local()
        # The threads of this process take SQLite's write lock in the order they ask for
        # it: SQLite's busy handler retries after sleeps of up to 100 ms, so a thread
        # that commits and begins again at once (the fan-out, batch after batch) won
        # every race, and a siren's claim waited seconds behind a city's SMS.  Other
        # processes still meet SQLite's own lock.
        self._turns = Turns()
        self._migrations = tuple(sorted(migrations))
        self._create = create
        if not create and not path.is_file():
            raise MissingDatabaseError(path)
        if create and str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.migrate()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise  # locked or full: transient, not a corrupt file
            raise CorruptDatabaseError(path, exc) from None
        self._identity = self._file_identity()

    def _file_identity(self) -> tuple[int, int] | None:
        """(device, inode) of the database file now; None when it is gone (or in memory)."""
        if str(self.path) == ":memory:":
            return None
        try:
            found = self.path.stat()
        except FileNotFoundError:
            return None
        return (found.st_dev, found.st_ino)

    def check_file(self) -> None:
        """Raise DatabaseReplacedError when the file was deleted or replaced since opening.

        SQLite keeps writing to the unlinked file it has open: the state would
        vanish at exit and the next start would fire every warning again.
        """
        if str(self.path) == ":memory:":
            return
        now = self._file_identity()
        if now != self._identity:
            what = "deleted" if now is None else "replaced by another file"
            raise DatabaseReplacedError(f"database {self.path} was {what} while running")

    # -- connections and transactions ------------------------------------------------

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            target = self.path if self._create else f"file:{self.path}?mode=rw"
            conn = sqlite3.connect(target, timeout=30.0, isolation_level=None, uri=not self._create)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a warning recorded as sent must survive a power cut too.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            # Checkpoints are the store's choice (see `transaction`), never a side effect
            # of whichever commit crosses SQLite's threshold: that one may carry a siren.
            conn.execute("PRAGMA wal_autocheckpoint=0")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One atomic write: BEGIN IMMEDIATE ... COMMIT, rolled back on any error.

        `durable=False` commits without waiting for the disk (WAL, synchronous=NORMAL):
        for bookkeeping whose loss in a power cut costs nothing (an unchanged feed's
        last success, written every few seconds).  It is atomic all the same, and
        every earlier durable commit stays durable.
        """
        conn = self.connection()
        with self._turns.turn():
            before = conn.total_changes
            yield from self._transaction(conn, durable=durable)
            bulk = conn.total_changes - before >= BULK_ROWS
        if bulk:
            # Its own frames, outside the turn.  The few that other threads commit
            # meanwhile are left to the daemon's checkpoint: queueing a second time
            # behind the SMS threads' commits for them cost a city's fan-out a tenth
            # of its time.  Committed all the same if the copy fails: the daemon's
            # checkpoint tries again (and logs what fails).
            with suppress(sqlite3.OperationalError):
                self._checkpoint(conn)

    def checkpoint(self) -> Checkpoint:
        """Copy what the write-ahead log holds into the database file; what was seen.

        Most of it is copied outside the write turn, while writers go on; then
        the few frames written meanwhile inside it, so that the copy completes
        and SQLite can start the log again from the beginning.  The turn is
        taken only for a short rest (`TURN_FRAMES`): copying holds every writer
        waiting, a siren's claim included.  A reader still holding an older
        snapshot stops a copy short, and this does not wait for it: no commit
        copies by itself (`wal_autocheckpoint=0`), so the rest waits in the log
        for the next checkpoint, which the daemon runs every few seconds.  A bulk
        commit copies outside the turn only (`transaction`).
        """
        conn = self.connection()
        seen = self._checkpoint(conn)
        if seen.busy or seen.complete or seen.rest > TURN_FRAMES:
            # Another connection is copying, nothing is left, or a reader holds much
            # back (next time): the turn would be waited for in vain.
            return seen
        with self._turns.turn():
            return self._checkpoint(conn)

    def _checkpoint(self, conn: sqlite3.Connection) -> Checkpoint:
        """One PASSIVE checkpoint: it copies what no reader still needs, and never waits."""
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames < 0:  # no log (an in-memory database) or another checkpoint running
            return Checkpoint(0, 0, busy=bool(busy))
        return Checkpoint(int(frames), int(copied))

    def _transaction(
        self, conn: sqlite3.Connection, *, durable: bool
    ) -> Iterator[sqlite3.Connection]:
        """`transaction`'s body, once this thread's turn has come."""
        if not durable:
            conn.execute("PRAGMA synchronous=NORMAL")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # SQLite rolls back by itself on SQLITE_FULL and some I/O errors: a second
                # ROLLBACK would raise and hide the real error; a failed COMMIT leaves it open.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            if not durable:
                conn.execute("PRAGMA synchronous=FULL")

    def migrate(self) -> int:
        """Apply pending migrations in order; return the schema version."""
        conn = self.connection()
        current = int(conn.execute("PRAGMA user_version").fetchone()[0])
        for version, sql in self._migrations:
            if version <= current:
                continue
            with self.transaction() as tx:
                for statement in _statements(sql):
                    tx.execute(statement)
                tx.execute(f"PRAGMA user_version = {int(version)}")
            current = version
        return current

    # -- alert states ------------------------------------------------------------------

    def load_states(self, *, drill: bool = False) -> dict[tuple[str, str], AlertStatus]:
        """Every remembered (rule, area) status of live (or drill) alerting."""
        rows = self.connection().execute(
            "SELECT * FROM alert_states WHERE drill = ?", (int(drill),)
        )
        return {(r["rule_id"], r["area_id"]): status_from(r) for r in rows}

    def apply_transitions(self, tx: sqlite3.Connection, transitions: Iterable[Transition]) -> None:
        """Store each transition's new status and log it, inside the caller's transaction."""
        for t in transitions:
            _save_status(tx, t.status)
            tx.execute(
                "INSERT INTO alert_log (time, kind, rule_id, area_id, alert_id, level,"
                " previous_level, drill, event_id, reason, value_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _iso(t.time),
                    t.kind.value,
                    t.rule_id,
                    t.area_id,
                    t.status.alert_id,
                    t.status.level.value if t.status.level else None,
                    t.previous_level.value if t.previous_level else None,
                    int(t.status.drill),
                    t.status.event_id,
                    t.reason,
                    _json(dict(t.status.values)),
                ),
            )

    def replace_states(
        self, tx: sqlite3.Connection, states: Mapping[tuple[str, str], AlertStatus], *, drill: bool
    ) -> None:
        """Make the stored statuses exactly `states` (used when a reload drops rules)."""
        tx.execute("DELETE FROM alert_states WHERE drill = ?", (int(drill),))
        for status in states.values():
            _save_status(tx, status)

    # -- observations ------------------------------------------------------------------

    def remember_observations(
        self, tx: sqlite3.Connection, observations: Iterable[Observation], received_at: datetime
    ) -> int:
        """Keep observations for windowed rules; identical repeats are stored once."""
        before = tx.total_changes
        tx.executemany(
            "INSERT OR IGNORE INTO observations (source, kind, event_id, time, body, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    o.source,
                    o.kind.value,
                    o.event_id,
                    _iso(o.time),
                    _json(observation_body(o)),
                    _iso(received_at),
                )
                for o in observations
            ],
        )
        return tx.total_changes - before

    def recent_observations(self, since: datetime) -> list[Observation]:
        """Observations with a time at or after `since`, oldest received first.

        Receipt order, not observation time: the engine lets the last-received
        revision of a reading or event win, so a restart must replay them in the
        order they arrived.
        """
        rows = self.connection().execute(
            "SELECT source, kind, event_id, time, body FROM observations WHERE time >= ?"
            " ORDER BY id",
            (_iso(since),),
        )
        return [_observation(r) for r in rows]

    def prune_observations(self, tx: sqlite3.Connection, before: datetime) -> int:
        """Forget observations older than every rule window."""
        return tx.execute("DELETE FROM observations WHERE time < ?", (_iso(before),)).rowcount

    # -- feeds -------------------------------------------------------------------------

    def feed(self, name: str) -> FeedRecord:
        """What is remembered about a feed (defaults when never polled)."""
        row = (
            self.connection().execute("SELECT * FROM feed_state WHERE feed = ?", (name,)).fetchone()
        )
        return _feed(row) if row else FeedRecord(feed=name)

    def feeds(self) -> list[FeedRecord]:
        """Every feed that has been polled."""
        return [
            _feed(r) for r in self.connection().execute("SELECT * FROM feed_state ORDER BY feed")
        ]

    def save_feed(self, tx: sqlite3.Connection, record: FeedRecord) -> None:
        """Store a feed's health, failure count, last success and last error."""
        tx.execute(
            "INSERT OR REPLACE INTO feed_state (feed, health, failures, last_success, last_error,"
            " last_error_at, health_since) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                record.feed,
                record.health.value,
                record.failures,
                _iso(record.last_success),
                record.last_error,
                _iso(record.last_error_at),
                _iso(record.health_since),
            ),
        )

    # -- audit -------------------------------------------------------------------------

    def audit(
        self,
        tx: sqlite3.Connection,
        actor: str,
        action: str,
        detail: Mapping[str, Any],
        at: datetime,
    ) -> None:
        """Record an operator or system action: who, what, when."""
        tx.execute(
            "INSERT INTO audit_log (time, actor, action, detail_json) VALUES (?, ?, ?, ?)",
            (_iso(at), actor, action, _json(dict(detail))),
        )

    def audit_entries(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Audit entries, oldest first."""
        rows = self.connection().execute(
            "SELECT * FROM audit_log WHERE time >= ? ORDER BY id",
            (_iso(since) or "",),
        )
        return [{**dict(r), "detail": json.loads(r["detail_json"])} for r in rows]


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements (no semicolons inside our DDL)."""
    return [s.strip() for s in sql.split(";") if s.strip()]


def _save_status(tx: sqlite3.Connection, status: AlertStatus) -> None:
    """Upsert one (rule, area, drill) status."""
    tx.execute(
        "INSERT OR REPLACE INTO alert_states (rule_id, area_id, drill, state, level, alert_id,"
        " since, active_since, last_true, last_notified, event_id, fingerprint, value_json)"
        " VALUES (:rule_id, :area_id, :drill, :state, :level, :alert_id, :since, :active_since,"
        " :last_true, :last_notified, :event_id, :fingerprint, :value_json)",
        status_columns(status),
    )


def status_columns(status: AlertStatus) -> dict[str, Any]:
    """A status as its `alert_states` columns (also how a pending fan-out stores one)."""
    return {
        "rule_id": status.rule_id,
        "area_id": status.area_id,
        "drill": int(status.drill),
        "state": status.state.value,
        "level": status.level.value if status.level else None,
        "alert_id": status.alert_id,
        "since": _iso(status.since),
        "active_since": _iso(status.active_since),
        "last_true": _iso(status.last_true),
        "last_notified": _iso(status.last_notified),
        "event_id": status.event_id,
        "fingerprint": status.fingerprint,
        "value_json": _json(dict(status.values)),
    }


def status_from(row: sqlite3.Row | Mapping[str, Any]) -> AlertStatus:
    """A status back from its columns (a stored row or `status_columns`' mapping)."""
    return AlertStatus(
        rule_id=row["rule_id"],
        area_id=row["area_id"],
        state=AlertState(row["state"]),
        level=Level(row["level"]) if row["level"] else None,
        alert_id=row["alert_id"],
        since=_time(row["since"]),
        active_since=_time(row["active_since"]),
        last_true=_time(row["last_true"]),
        last_notified=_time(row["last_notified"]),
        event_id=row["event_id"],
        fingerprint=row["fingerprint"],
        values=freeze_values(json.loads(row["value_json"])),
        drill=bool(row["drill"]),
    )


def observation_body(o: Observation) -> dict[str, Any]:
    """The parts of an observation that are not columns, as JSON-able data."""
    return {
        "values": dict(o.values),
        "lon": o.lon,
        "lat": o.lat,
        "area_ids": list(o.area_ids),
        "polygons": [list(map(list, ring)) for ring in o.polygons],
        "exercise": o.exercise,
        "origin": o.origin,
        "coverage": None if o.coverage is None else o.coverage.value,
    }


def _observation(row: sqlite3.Row) -> Observation:
    """A stored observation back to the model."""
    body = json.loads(row["body"])
    values: dict[str, Value] = body["values"]
    return Observation(
        source=row["source"],
        kind=ObservationKind(row["kind"]),
        event_id=row["event_id"],
        time=datetime.fromisoformat(row["time"]),
        values=values,
        lon=body["lon"],
        lat=body["lat"],
        area_ids=tuple(body["area_ids"]),
        polygons=tuple(tuple((p[0], p[1]) for p in ring) for ring in body["polygons"]),
        exercise=body["exercise"],
        origin=body["origin"],
        # Rows stored before coverage was recorded infer it from their location.
        coverage=Coverage(body["coverage"]) if body.get("coverage") else None,
    )


def _feed(row: sqlite3.Row) -> FeedRecord:
    """A stored feed row back to a FeedRecord."""
    return FeedRecord(
        feed=row["feed"],
        health=FeedHealth(row["health"]),
        failures=row["failures"],
        last_success=_time(row["last_success"]),
        last_error=row["last_error"],
        last_error_at=_time(row["last_error_at"]),
        health_since=_time(row["health_since"]),
    )
