"""A pipeline rig with acknowledgement links and an escalation chain switched on.

The test contacts (officials, rt-heads, siskamling, public per coastal kelurahan)
plus a lurah, a camat and Pusdalops for Manggar and Lamaru; links under
`https://bpbd.test` signed with a key from a `*_file` setting; the chain
rt-heads (10 min) -> lurah (10 min) -> camat (15 min) -> pusdalops.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.support.deployment import TestContact
from tests.support.pipeline import Clock, Rig, make_rig, write_settings

PUBLIC_URL = "https://bpbd.test"
KEY = "kunci-rahasia-uji-tautan-konfirmasi"
CHAIN = (("rt-heads", 10), ("lurah", 10), ("camat", 15), ("pusdalops", 0.5))
#: Extra contacts: the chain's later steps for two kelurahan.
CHAIN_CONTACTS = tuple(
    TestContact(phone, name, area, group)
    for phone, name, area, group in (
        ("+6281299900001", "Lurah Manggar", "manggar", "lurah"),
        ("+6281299900002", "Camat Balikpapan Timur", "manggar", "camat"),
        ("+6281299900003", "Lurah Lamaru", "lamaru", "lurah"),
        ("+6281299900004", "Camat Timur Lamaru", "lamaru", "camat"),
        ("+6281299900005", "Pusdalops BPBD", "manggar;lamaru", "pusdalops"),
    )
)


def ack_rig(directory: Path, clock: Clock | None = None, *, drill: bool = True) -> Rig:
    """The pipeline rig of `tests.support.pipeline` with links and the chain configured."""
    key = directory / "ack.key"
    key.write_text(KEY + "\n")
    steps = "\n".join(f'[[escalation]]\ngroup = "{g}"\nafter_minutes = {m}\n' for g, m in CHAIN)
    console = (
        f"[console]\npublic_url = {json.dumps(PUBLIC_URL)}\n"
        f"ack_secret_file = {json.dumps(str(key))}\n"
    )
    chain = [replace(c, drill=drill) for c in CHAIN_CONTACTS]
    settings = write_settings(directory, also=chain, extra="\n" + console + "\n" + steps)
    return make_rig(settings, clock=clock)


def payloads(rig: Rig, phone: str) -> list[Mapping[str, Any]]:
    """The SMS payloads enqueued for one phone, oldest first."""
    return [json.loads(r["payload_json"]) for r in rig.outbox("sms") if r["recipient"] == phone]


def escalation_sms(rig: Rig) -> list[tuple[int, str]]:
    """(step, phone) of every escalation SMS enqueued, oldest first."""
    found = []
    for r in rig.outbox("sms"):
        payload = json.loads(r["payload_json"])
        if "escalation_step" in payload:
            found.append((int(payload["escalation_step"]), r["recipient"]))
    return found
