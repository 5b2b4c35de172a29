"""Contacts live in the store: loaded when they change, fanned out set-based, never held whole.

A city's contacts file lists hundreds of thousands of people.  The daemon keeps
them in SQLite (loaded at start and on reload, only when the file changed) and
holds as objects only the few groups it reads person by person; the SMS
fan-out is written from the store with `INSERT ... SELECT`.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import responses

from tests.support.deployment import COASTAL, TestContact, contacts
from tests.support.pipeline import BASE, PD1, Rig, make_rig, write_settings
from warning.daemon.configuration import load_configuration
from warning.store import contacts as contactbook

URL = f"{BASE}/inatews"

#: Public contacts: one area each, and some covering two coastal kelurahan.
PUBLIC = tuple(
    TestContact(f"+6281399{n:05d}", f"Warga {n}", COASTAL[n % len(COASTAL)], "public")
    for n in range(40)
) + tuple(
    TestContact(f"+6281398{n:05d}", f"Dua {n}", f"{COASTAL[0]};{COASTAL[1]}", "public")
    for n in range(5)
)


def _serve_pd1() -> None:
    responses.add(responses.GET, URL, body=PD1.read_bytes(), headers={"ETag": '"v1"'})


def _loaded_at(rig: Rig) -> str:
    row = rig.store.connection().execute("SELECT loaded_at FROM contact_book").fetchone()
    return str(row[0])


def test_the_daemon_holds_only_the_officials_and_the_store_holds_everyone(
    tmp_path: Path,
) -> None:
    """Every valid row is in the store; the configuration keeps the officials only."""
    rig = make_rig(write_settings(tmp_path, also=PUBLIC))
    listed = len(contacts()) + len(PUBLIC)
    book = rig.pipeline.config.contacts
    assert len(book) == listed
    assert {c.group for c in book.kept} == {"officials"}
    assert book.officials == book.kept
    conn = rig.store.connection()
    assert contactbook.count(conn) == listed
    stored = {r[0] for r in conn.execute("SELECT phone FROM contacts")}
    assert stored == {c.phone for c in (*contacts(), *PUBLIC)}
    # People sharing a group, language, drill flag and areas share one set.
    held = contactbook.sets(conn)
    assert len(held) < listed
    assert sum(s.people for s in held) == listed


def test_a_reload_rewrites_the_contacts_only_when_the_file_changed(tmp_path: Path) -> None:
    """The same file reloaded costs no rewrite; an edited file replaces the stored people."""
    settings = write_settings(tmp_path, also=PUBLIC)
    rig = make_rig(settings)
    first = _loaded_at(rig)
    rig.clock.now += timedelta(minutes=1)
    rig.pipeline.reload(load_configuration(settings))
    assert _loaded_at(rig) == first

    assert settings.contacts_path is not None
    newcomer = "+628139977777"
    with settings.contacts_path.open("a", encoding="utf-8") as out:
        out.write(f"{newcomer},Warga Baru,{COASTAL[2]},public,id,false\n")
    rig.clock.now += timedelta(minutes=1)
    rig.pipeline.reload(load_configuration(settings))
    assert _loaded_at(rig) != first
    conn = rig.store.connection()
    assert conn.execute("SELECT count(*) FROM contacts WHERE phone = ?", (newcomer,)).fetchone()
    assert contactbook.count(conn) == len(contacts()) + len(PUBLIC) + 1


@responses.activate
def test_the_set_based_fan_out_sends_each_person_one_sms_and_skips_opted_out_numbers(
    tmp_path: Path,
) -> None:
    """Batches of three people: each person one SMS naming their kelurahan, opted out none."""
    rig = make_rig(write_settings(tmp_path, sirens=True, also=PUBLIC))
    rig.pipeline.fan_out_batch = 3
    rig.pipeline.fan_out_pause_s = 0.0
    stopped = PUBLIC[0].phone
    with rig.store.transaction() as tx:
        tx.execute(
            "INSERT INTO opt_outs (phone, time, code) VALUES (?, '2026-01-01T00:00:00+00:00', "
            "'21610')",
            (stopped,),
        )
    _serve_pd1()
    assert rig.pipeline.poll("inatews").ok
    sms = rig.outbox("sms")
    per_person = Counter(r["recipient"] for r in sms)
    assert set(per_person.values()) == {1}
    assert stopped not in per_person
    assert {p.phone for p in PUBLIC[1:]} <= per_person.keys()
    conn = rig.store.connection()
    for row in sms:
        payload = json.loads(row["payload_json"])
        assert payload["to"] == row["recipient"]
        # The set's stand-in recipient is worded away: no row names it anywhere.
        assert "@@set" not in row["payload_json"] + row["dedup_key"]
        assert row["dedup_key"].endswith(f":sms:{row['recipient']}")
        areas = {
            a[0]
            for a in conn.execute(
                "SELECT area_id FROM area_set_members WHERE set_id = ?", (row["area_set"],)
            )
        }
        assert areas
    two = [r for r in sms if r["recipient"].startswith("+6281398")]
    assert two
    for row in two:
        areas = {
            a[0]
            for a in conn.execute(
                "SELECT area_id FROM area_set_members WHERE set_id = ?", (row["area_set"],)
            )
        }
        assert areas == {COASTAL[0], COASTAL[1]}
