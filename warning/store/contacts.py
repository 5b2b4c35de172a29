"""The contacts file in SQLite: who gets SMS, held by the store, not as one object per person.

A city that signs its residents up lists hundreds of thousands of people.  The
daemon loads the file into these tables when its configuration is loaded or
reloaded (only when the contacts changed, in one transaction), and the SMS
fan-out is written from them with `INSERT ... SELECT` (`outbox.enqueue_expanded`).
People who share a group, a language, a drill flag and an area set share one
`ContactSet`: the planner words each set's messages once, whatever its size.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from warning.model import OFFICIALS_GROUP, Contact
from warning.store.sqlite import Store


@dataclass(frozen=True, slots=True)
class ContactSet:
    """The people sharing a group, language, drill flag and kelurahan; `people` how many."""

    id: int
    group: str
    language: str
    drill: bool
    areas: frozenset[str]
    people: int
    #: The smallest and largest contact id of its people (batches are id ranges).
    first_id: int = 0
    last_id: int = 0


def loaded_digest(conn: sqlite3.Connection) -> str | None:
    """The digest of the contacts the store holds, None when none were ever loaded."""
    row = conn.execute("SELECT digest FROM contact_book WHERE id = 1").fetchone()
    return None if row is None else str(row[0])


def replace(tx: sqlite3.Connection, people: Iterable[Contact], hashed: str, now: datetime) -> None:
    """Replace every contact by `people` in the caller's transaction (all or nothing).

    One pass over `people`, which may be a generator: no second list of a city.
    """
    tx.execute("DELETE FROM contacts")
    tx.execute("DELETE FROM contact_areas")
    tx.execute("DELETE FROM contact_sets")
    ids: dict[tuple[str, str, bool, frozenset[str]], int] = {}
    counted = [0]

    def rows() -> Iterator[tuple[str, str, int, int]]:
        for p in people:
            counted[0] += 1
            key = (p.group, p.language, p.drill, p.areas)
            yield p.phone, p.name, ids.setdefault(key, len(ids) + 1), p.line

    tx.executemany("INSERT INTO contacts (phone, name, set_id, line) VALUES (?, ?, ?, ?)", rows())
    tx.executemany(
        "INSERT INTO contact_sets (id, grp, language, drill) VALUES (?, ?, ?, ?)",
        [(i, group, lang, int(drill)) for (group, lang, drill, _areas), i in ids.items()],
    )
    tx.executemany(
        "INSERT INTO contact_areas (set_id, area_id) VALUES (?, ?)",
        [(i, area) for key, i in ids.items() for area in sorted(key[3])],
    )
    # Each set's size and id span, kept so that a fan-out plans its batches without a scan.
    tx.execute(
        "UPDATE contact_sets SET (people, first_id, last_id) = (SELECT count(*),"
        " coalesce(min(id), 0), coalesce(max(id), 0) FROM contacts"
        " WHERE contacts.set_id = contact_sets.id)"
    )
    tx.execute(
        "INSERT INTO contact_book (id, digest, people, loaded_at) VALUES (1, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET digest = excluded.digest, people = excluded.people,"
        " loaded_at = excluded.loaded_at",
        (hashed, counted[0], now.astimezone(UTC).isoformat()),
    )


def load(store: Store, hashed: str, people: Callable[[], Iterable[Contact]], now: datetime) -> bool:
    """Hold the `people` of the contacts hashed `hashed`; True when they replaced others.

    Unchanged contacts (the same hash) are neither read nor rewritten: a reload
    that did not touch the file costs nothing here, not a rewrite of 750,000 rows.
    """
    if loaded_digest(store.connection()) == hashed:
        return False
    listed = people()
    with store.transaction() as tx:
        replace(tx, listed, hashed, now)
    return True


def count(conn: sqlite3.Connection) -> int:
    """How many people the store holds."""
    row = conn.execute("SELECT people FROM contact_book WHERE id = 1").fetchone()
    return 0 if row is None else int(row[0])


def sets(conn: sqlite3.Connection) -> list[ContactSet]:
    """Every contact set with its kelurahan, how many people it holds and their id span."""
    areas: dict[int, set[str]] = {}
    for set_id, area in conn.execute("SELECT set_id, area_id FROM contact_areas"):
        areas.setdefault(int(set_id), set()).add(str(area))
    return [
        ContactSet(
            int(i), str(g), str(lang), bool(d), frozenset(areas.get(int(i), ())), n, first, last
        )
        for i, g, lang, d, n, first, last in conn.execute(
            "SELECT id, grp, language, drill, people, first_id, last_id FROM contact_sets"
            " WHERE people > 0 ORDER BY id"
        )
    ]


def members(conn: sqlite3.Connection, set_ids: Collection[int]) -> list[Contact]:
    """The people of these sets (the few the fan-out must word one by one), in file order."""
    wanted = {int(i) for i in set_ids}
    found = {s.id: s for s in sets(conn) if s.id in wanted}
    rows = conn.execute(
        "SELECT phone, name, set_id, line FROM contacts WHERE set_id IN"
        " (SELECT value FROM json_each(?)) ORDER BY id",
        (f"[{','.join(str(i) for i in sorted(wanted))}]",),
    )
    return [
        Contact(
            phone,
            name,
            found[set_id].areas,
            found[set_id].group,
            found[set_id].language,
            found[set_id].drill,
            line,
        )
        for phone, name, set_id, line in rows
    ]


def group_members(conn: sqlite3.Connection, groups: Collection[str]) -> list[Contact]:
    """Everyone in these contact groups (officials for notices, an escalation step's group)."""
    return members(conn, [s.id for s in sets(conn) if s.group in groups])


def officials(conn: sqlite3.Connection) -> list[Contact]:
    """The officials group: the few who hear health notices and safety timeouts."""
    return group_members(conn, (OFFICIALS_GROUP,))


def batches(chosen: Collection[ContactSet], size: int) -> list[tuple[int, int]]:
    """Contact id ranges (inclusive) covering these sets' people, about `size` people each.

    Computed from the sets' sizes and id spans, without reading the contacts: the
    range width is `size` times the ids per person of the span (a city's bulk
    group is dense, a small group fits one range).  A resumed fan-out writes the
    same ranges again: the outbox's unique dedup key makes the second write a no-op.
    """
    if not chosen:
        return []
    people = sum(s.people for s in chosen)
    low = min(s.first_id for s in chosen)
    high = max(s.last_id for s in chosen)
    steps = max(-(-people // max(size, 1)), 1)
    width = -(-(high - low + 1) // steps)
    return [(start, min(start + width - 1, high)) for start in range(low, high + 1, width)]
