"""What officials read about the system itself: feed health, bad contacts, silent sirens, tests.

Every such text is written here, beside the alerts' own (`messages`,
`correction`), so that each word a person reads lives in `plan/`.  Each is
plain GSM-7 and one segment (`render_plain`); drill texts carry the drill prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from warning.model import WITA
from warning.plan.messages import PREFIX_DRILL, render_plain

#: The name a manual alert's CAP document gives where a rule's would give the rule's.
MANUAL_ALERT_NAME = "Peringatan manual"


def _drill(text: str, drill: bool) -> str:
    """`text` with the drill prefix when it belongs to a drill."""
    return PREFIX_DRILL["id"] + text if drill else text


def _wita(moment: datetime) -> str:
    """A time as people read it: day/month hour:minute WITA."""
    return moment.astimezone(WITA).strftime("%d/%m %H:%M WITA")


def feed_health_sms(feed: str, *, went_down: bool, at: datetime, drill: bool) -> str:
    """A feed went down (other warnings keep running) or recovered."""
    when = _wita(at)
    text = (
        f"INFO SISTEM: sumber data {feed} tidak tersedia sejak {when}. "
        "Peringatan lain tetap berjalan; cek sumber resmi BMKG."
        if went_down
        else f"INFO SISTEM: sumber data {feed} pulih {when}."
    )
    return _drill(text, drill)


def bad_contacts_sms(count: int, lines: Sequence[int]) -> str:
    """Some contacts rows were left out (at most 8 line numbers shown)."""
    shown = ", ".join(str(n) for n in lines[:8])
    text = (
        f"SISTEM PERINGATAN: {count} baris kontak salah (baris {shown}) tidak menerima"
        " SMS. Perbaiki contacts.csv, cek dengan: warning check"
    )
    return render_plain(text[:160])


def silent_siren_sms(siren: str, *, drill: bool) -> str:
    """A siren did not acknowledge its command."""
    return render_plain(_drill(f"Sirene {siren} tidak merespons", drill))


def send_test_sms(at: datetime) -> str:
    """`warning send-test`: a drill-marked test that asks nothing of the reader."""
    text = "Tes sistem peringatan dini Kota Balikpapan, tidak perlu tindakan. "
    return render_plain(PREFIX_DRILL["id"] + text + _wita(at))
