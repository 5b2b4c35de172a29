"""Reach: from a BMKG SIAGA to the public channel post and to the last official and RT head.

At Twilio's default throughput for an alphanumeric sender in Indonesia (10
messages per second), the daemon's real objects run on a test deployment
(tests.support.peers: feed, siren, Telegram Bot API and Twilio servers, the
shipped rules) as in `bench.latency`: the `Daemon` is built from its settings
file, its APScheduler runs the outbox job, and one InaTEWS PD-1 naming Kota
Balikpapan at SIAGA is polled directly.  The contacts are 1,800 officials and
RT heads on the coast (300 officials, 1,500 RT heads), `[sms] max_per_second`
is the account's MPS, and the Twilio server refuses (429, code 20429) any
request beyond that MPS in a trailing second, so a limiter that overshoots
shows up as refusals.  A city-wide Telegram channel gets the post.

Measured from the feed server receiving the GET (one monotonic clock): the
channel post, the last official's and the last RT head's SMS accepted by
Twilio.  Twilio sends an accepted message at the account's MPS, so with the
cap at the MPS acceptance is when the SMS leaves Twilio.  The pool case gives
the messaging service three senders (3 x 10/s): what a sender pool changes.
A third case sets `[sms] max_per_second` 5 % under the MPS, the headroom that
keeps arrival jitter from pushing an 11th request into one second.  The
baseline is the arithmetic floor `contacts / [sms] cap`.

Run: `python -m bench.reach [--quick]` (quick: 60 contacts).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import discard_logs, emit, machine, quick_flag, say, verdict
from bench.latency import PD1, Harness, bulletin, environment
from tests.support.deployment import COASTAL, Deployment, write_config
from tests.support.peers import FeedServer, SirenServer, TelegramServer, TwilioServer
from tests.support.peers.telegram import TOKEN

#: Twilio's default MPS for an alphanumeric sender in Indonesia.
MPS = 10.0
CONTACTS = 1_800
OFFICIALS_SHARE = 6  # one official in six contacts: 300 of 1,800
POST_TARGET_S = 5.0
#: The limiter may lose up to this share of the cap (margins, network jitter).
CAP_EFFICIENCY = 0.9
CHAT = "@bpbd_balikpapan"
GROUPS = ("officials", "rt-heads")


def people(count: int) -> list[tuple[str, str, str]]:
    """(phone, area, group): officials first by number, then RT heads, over the coast."""
    officials = max(1, count // OFFICIALS_SHARE)
    return [
        (f"+62813{i:08d}", COASTAL[i % len(COASTAL)], "officials" if i < officials else "rt-heads")
        for i in range(count)
    ]


def configure(deployment: Deployment, bot: TelegramServer, count: int, cap_per_s: float) -> None:
    """The contacts, the `[sms]` cap and the city-wide Telegram channel."""
    rows = ["phone,name,areas,group,language,drill"]
    rows += [f"{p},Uji {g} {a},{a},{g},id,false" for p, a, g in people(count)]
    (deployment.directory / "contacts.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    text = deployment.config.read_text(encoding="utf-8")
    tests_rate = "max_per_second = 50.0\nconcurrency = 8"
    assert tests_rate in text, "tests.support.peers.write_config changed its [sms] section"
    text = text.replace(tests_rate, f"max_per_second = {cap_per_s}\nconcurrency = 8")
    text += (
        f'\n[telegram]\napi_base = "{bot.url}"\n'
        f'\n[[telegram.channels]]\nchat_id = "{CHAT}"\nareas = ["all"]\n'
    )
    deployment.config.write_text(text, encoding="utf-8")


def one_run(count: int, senders: int, cap_share: float = 1.0) -> dict[str, Any]:
    """One SIAGA to `count` contacts at `senders` x 10/s, capped at `cap_share` of it."""
    rate = MPS * senders
    with (
        tempfile.TemporaryDirectory() as tmp,
        FeedServer() as feeds,
        TwilioServer(max_per_second=rate) as twilio,
        SirenServer() as sirens,
        TelegramServer() as bot,
    ):
        deployment = write_config(
            Path(tmp), feeds=feeds, twilio=twilio, sirens=sirens, intervals={"inatews": 3600}
        )
        configure(deployment, bot, count, rate * cap_share)
        env = {**deployment.env, "TELEGRAM_BOT_TOKEN": TOKEN}
        with environment(env), Harness(deployment) as harness:
            now = datetime.now(UTC)
            origin = now - timedelta(seconds=90)
            feeds.serve("/inatews", bulletin(PD1, 0, origin, now - timedelta(seconds=60)))
            harness.daemon.pipeline.poll("inatews")
            drained = harness.drained(count / rate * 3 + 60)
        served = feeds.received("/inatews")[0].at
        posts = [r.at for r in bot.received() if r.form.get("ok") == "true"]
        groups = {p: g for p, _a, g in people(count)}
        accepted = [(r.at, groups.get(r.form["To"], "")) for r in twilio.accepted()]
        reached = len({r.form["To"] for r in twilio.accepted()})
        refused = len(twilio.messages()) - len(twilio.accepted())
    outcome = {"refused": refused, "reached": reached, "drained": drained, "cap": rate * cap_share}
    return _result(count, senders, served, posts=posts, accepted=accepted, outcome=outcome)


def _result(
    count: int,
    senders: int,
    served: float,
    *,
    posts: Sequence[float],
    accepted: Sequence[tuple[float, str]],
    outcome: dict[str, Any],
) -> dict[str, Any]:
    """Seconds from the feed to each milestone, and the verdicts."""
    rate = MPS * senders
    last = {g: max((t for t, gg in accepted if gg == g), default=float("nan")) for g in GROUPS}
    post_s = (min(posts) - served) if posts else float("nan")
    everyone_s = max(last.values()) - served
    floor_s = count / outcome["cap"]
    first_sms = min((t for t, _g in accepted), default=float("inf"))
    checks = {
        f"post < {POST_TARGET_S:g} s": post_s < POST_TARGET_S,
        "post before the first SMS": bool(posts) and min(posts) < first_sms,
        "everyone reached": outcome["reached"] == count and outcome["drained"],
        f"last SMS within floor / {CAP_EFFICIENCY}": everyone_s <= floor_s / CAP_EFFICIENCY + 2,
        "officials before RT heads": last["officials"] <= last["rt-heads"],
        "no request over the MPS": outcome["refused"] == 0,
    }
    return {
        "bench": "reach",
        "case": f"{count} officials and RT heads, {senders} sender(s) x {MPS:g}/s,"
        f" [sms] cap {outcome['cap']:g}/s",
        "contacts": count,
        "senders": senders,
        "mps": rate,
        "sms_cap_per_s": outcome["cap"],
        "post_s": round(post_s, 2),
        "last_official_s": round(last["officials"] - served, 1),
        "last_rt_head_s": round(last["rt-heads"] - served, 1),
        "everyone_s": round(everyone_s, 1),
        "baseline": "contacts / [sms] cap (the floor at that cap)",
        "baseline_s": round(floor_s, 1),
        "refused_over_mps": outcome["refused"],
        "accepted": len(accepted),
        "targets": {name: verdict(ok) for name, ok in checks.items()},
    }


def run(*, quick: bool = False) -> list[dict[str, Any]]:
    """One sender at 10/s (and, in full, a three-sender pool); print each result."""
    discard_logs()
    cases = (
        [(60, 1, 1.0)] if quick else [(CONTACTS, 1, 1.0), (CONTACTS, 3, 1.0), (CONTACTS, 1, 0.95)]
    )
    results = [emit(one_run(count, senders, share)) for count, senders, share in cases]
    say(f"reach on {machine()}:")
    for r in results:
        say(
            f"  {r['case']}: post {r['post_s']} s, last official {r['last_official_s']} s,"
            f" last RT head {r['last_rt_head_s']} s (floor {r['baseline_s']} s),"
            f" {r['refused_over_mps']} refused; {r['targets']}"
        )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `--quick` runs the smallest configuration."""
    run(quick=quick_flag(argv, __doc__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
