"""The CAP channel: one CAP 1.2 document per alert change, and an Atom index of current ones.

Layout of `[cap] directory`:

- `<identifier>.xml`: one CAP document per delivery; the identifier is
  `<sender with @ as .>.<alert id>.<n>` (alert id: the payload's change id),
  n counting the messages of its thread from 1.  A re-send of the same
  delivery (same dedup key, e.g. after a crash) rewrites the same file with
  the same identifier, `sent`, msgType and references.
- `journal/<episode>.json`: what was published per alert episode (the
  payload's `episodes`, the engine's per-(rule, area) alert ids from firing
  to all-clear; `[alert_id]` when absent), in order.  A message's thread is
  every earlier message sharing one of its episodes: it gives the msgType
  (Alert first, then Update or Cancel) and the `references` (see
  `cap_document` for the CAP sections followed).  A change whose thread is
  empty (CAP enabled while an alert ran) gets msgType Alert: Update and
  Cancel need something to reference.
- `index.atom`: an Atom feed of the current documents: every document that is
  the latest of at least one episode that has neither ended (all-clear,
  cancel) nor expired.

Writes are atomic (temporary file + rename) and serialised by a lock file, so
two workers or a crash never leave half a document or a torn journal.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from lxml import etree

from warning.areas import AreaIndex, load_areas
from warning.delivery.cap_document import (
    DEFAULT_PUBLISHER,
    EVENT,
    Header,
    MsgType,
    Publisher,
    cap_time,
    parse_payload,
    render,
)
from warning.delivery.channel import ChannelKind, Delivery, Outcome, SecretGetter, SendResult
from warning.plan.payloads import CapAlert, CapChange
from warning.settings import Settings

logger = structlog.get_logger(__name__)

#: The OASIS CAP 1.2 schema, shipped with the package.
SCHEMA_PATH = Path(__file__).with_name("CAP-v1.2.xsd")

ATOM_NS = "http://www.w3.org/2005/Atom"
INDEX_NAME = "index.atom"
JOURNAL_DIR = "journal"

Clock = Callable[[], datetime]


def load_schema() -> etree.XMLSchema:
    """The OASIS CAP 1.2 XML schema."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def safe_name(text: str) -> str:
    """`text` usable in a CAP identifier and a file name (no spaces, commas, < or &).

    Text that had to change gets a short hash, so two ids never share a name.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", text)
    if safe == text:
        return text
    return f"{safe}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


@dataclass(frozen=True, slots=True)
class CapRecord:
    """One published CAP document, as the journal and `warning cap list` know it."""

    dedup_key: str
    identifier: str
    sender: str
    sent: str
    msg_type: str
    status: str
    event: str
    areas: tuple[str, ...]
    expires: str | None
    ended: bool
    headline: str
    episodes: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    @property
    def reference(self) -> str:
        """CAP's extended message identifier: sender,identifier,sent."""
        return f"{self.sender},{self.identifier},{self.sent}"

    def current(self, now: datetime) -> bool:
        """Still in force: not ended and not expired at `now`."""
        if self.ended:
            return False
        return self.expires is None or datetime.fromisoformat(self.expires) > now

    def as_json(self) -> dict[str, Any]:
        """The fields `warning cap list --json` prints."""
        return {
            "identifier": self.identifier,
            "msgType": self.msg_type,
            "status": self.status,
            "event": self.event,
            "areas": list(self.areas),
            "sent": self.sent,
            "expires": self.expires,
        }


def msg_type(change: CapChange, earlier: list[CapRecord]) -> MsgType:
    """Alert for an alert's first message, Cancel for an operator's cancel, else Update."""
    if not earlier:
        return MsgType.ALERT
    if change is CapChange.CANCELLED_BY_OPERATOR:
        return MsgType.CANCEL
    return MsgType.UPDATE


class CapChannel:
    """Writes CAP documents and the index feed into a directory."""

    kind = ChannelKind.CAP

    def __init__(
        self,
        directory: Path,
        sender: str,
        areas: AreaIndex,
        clock: Clock | None = None,
        publisher: Publisher = DEFAULT_PUBLISHER,
    ) -> None:
        self._dir = directory
        self._sender = sender
        self._publisher = publisher
        self._prefix = safe_name(sender.replace("@", "."))
        self._areas = areas
        self._clock = clock or (lambda: datetime.now(UTC))
        self._schema = load_schema()
        self._lock = threading.Lock()

    def send(self, delivery: Delivery) -> SendResult:
        """Publish the delivery's document; a bad payload fails, a disk error retries."""
        try:
            alert = self._publisher.complete(parse_payload(delivery.payload, self._areas))
        except ValueError as exc:
            return _failed(delivery, str(exc))
        try:
            with self._lock, _directory_lock(self._dir):
                record = self._publish(alert, delivery.dedup_key)
        except _InvalidDocumentError as exc:
            return _failed(delivery, f"CAP document fails the schema: {exc}")
        except OSError as exc:
            logger.warning("cap.write_failed", alert_id=alert.alert_id, error=str(exc))
            return SendResult(Outcome.RETRY, error=f"CAP directory not writable: {exc}")
        logger.info("cap.published", identifier=record.identifier, msg_type=record.msg_type)
        return SendResult(Outcome.SENT, provider_id=record.identifier)

    def _publish(self, alert: CapAlert, dedup_key: str) -> CapRecord:
        """Write the document, then the episode journals, then the index."""
        thread = _thread(self._dir, alert.episodes)
        again = next((r for r in thread if r.dedup_key == dedup_key), None)
        header = _header_of(again) if again else self._new_header(alert, thread)
        document = render(header, alert, self._areas, self._publisher)
        self._validate(document)
        _write_atomically(self._dir / f"{header.identifier}.xml", document)
        record = self._record(header, alert, dedup_key)
        for episode in alert.episodes:
            _journal_record(_journal_path(self._dir, episode), record)
        _write_atomically(
            self._dir / INDEX_NAME, index_feed(self._dir, self._sender, self._clock())
        )
        return record

    def _new_header(self, alert: CapAlert, earlier: list[CapRecord]) -> Header:
        """The next message of a thread: Alert first, then Update or Cancel with references."""
        return Header(
            identifier=f"{self._prefix}.{safe_name(alert.alert_id)}.{len(earlier) + 1}",
            sender=self._sender,
            sent=alert.sent,
            msg_type=msg_type(alert.change, earlier),
            references=tuple(r.reference for r in earlier),
        )

    def _record(self, header: Header, alert: CapAlert, dedup_key: str) -> CapRecord:
        """The journal entry of a written document."""
        return CapRecord(
            dedup_key=dedup_key,
            identifier=header.identifier,
            sender=header.sender,
            sent=cap_time(header.sent),
            msg_type=header.msg_type.value,
            status="Exercise" if alert.drill else "Actual",
            event=EVENT[alert.kind]["id"],
            areas=tuple(self._areas.names(alert.area_ids)),
            expires=cap_time(alert.expires) if alert.expires else None,
            ended=alert.change.ends,
            headline=alert.headline.get("id", ""),
            episodes=alert.episodes,
            references=header.references,
        )

    def _validate(self, document: bytes) -> None:
        """Refuse to publish anything the OASIS schema rejects."""
        tree = etree.fromstring(document)
        if not self._schema.validate(tree):
            raise _InvalidDocumentError(str(self._schema.error_log))


class _InvalidDocumentError(Exception):
    """A rendered document does not validate (a bug, never retried)."""


def _failed(delivery: Delivery, reason: str) -> SendResult:
    """A permanent failure, logged."""
    logger.error("cap.failed", alert_id=delivery.alert_id, reason=reason)
    return SendResult(Outcome.FAILED, error=reason)


def _header_of(record: CapRecord) -> Header:
    """The header a published message had, for rewriting it identically."""
    return Header(
        identifier=record.identifier,
        sender=record.sender,
        sent=datetime.fromisoformat(record.sent),
        msg_type=MsgType(record.msg_type),
        references=record.references,
    )


def _journal_path(directory: Path, episode: str) -> Path:
    """The journal of one alert episode."""
    return directory / JOURNAL_DIR / f"{safe_name(episode)}.json"


def _thread(directory: Path, episodes: tuple[str, ...]) -> list[CapRecord]:
    """Every message about any of `episodes`, oldest first, each once."""
    found = {r.identifier: r for e in episodes for r in read_journal(_journal_path(directory, e))}
    return sorted(found.values(), key=lambda r: (datetime.fromisoformat(r.sent), r.identifier))


def _journal_record(path: Path, record: CapRecord) -> None:
    """Append `record` to a journal, or replace its earlier copy (a re-send)."""
    records = read_journal(path)
    identifiers = [r.identifier for r in records]
    if record.identifier in identifiers:
        records[identifiers.index(record.identifier)] = record
    else:
        records.append(record)
    _write_atomically(path, json.dumps([asdict(r) for r in records], indent=1).encode())


@contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """An exclusive lock on the CAP directory, across processes."""
    (directory / JOURNAL_DIR).mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


#: CAP files: the owner writes, its group (a web server publishing them) reads, nobody else.
CAP_FILE_MODE = 0o640


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old or the new file, never half.

    The file is CAP_FILE_MODE whatever the umask of the shell an operator ran a cancel from.
    """
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, CAP_FILE_MODE)
    os.fchmod(descriptor, CAP_FILE_MODE)
    with open(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


# ---------------------------------------------------------------------------
# Reading back: the journal, the current documents and the index feed.


def read_journal(path: Path) -> list[CapRecord]:
    """The records of one alert, oldest first (none when the file does not exist)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    tuples = ("areas", "episodes", "references")
    return [CapRecord(**{**item, **{k: tuple(item.get(k, ())) for k in tuples}}) for item in raw]


def current_documents(directory: Path, now: datetime) -> list[CapRecord]:
    """Documents still in force (latest of an episode, not ended or expired), newest first."""
    latest = {
        records[-1].identifier: records[-1]
        for path in sorted((directory / JOURNAL_DIR).glob("*.json"))
        if (records := read_journal(path))
    }
    current = [r for r in latest.values() if r.current(now)]
    return sorted(current, key=lambda r: datetime.fromisoformat(r.sent), reverse=True)


def index_feed(directory: Path, sender: str, now: datetime) -> bytes:
    """An Atom feed listing the current CAP documents, linked by file name."""
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})  # type: ignore[dict-item]  # lxml-stubs lack the default namespace
    _atom(feed, "id", f"urn:x-warning:cap:{safe_name(sender)}")
    _atom(feed, "title", f"CAP {sender}")
    _atom(feed, "updated", cap_time(now))
    _atom(etree.SubElement(feed, f"{{{ATOM_NS}}}author"), "name", sender)
    for record in current_documents(directory, now):
        _add_entry(feed, record)
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _add_entry(feed: etree._Element, record: CapRecord) -> None:
    """One Atom entry for a CAP document."""
    entry = etree.SubElement(feed, f"{{{ATOM_NS}}}entry")
    _atom(entry, "id", f"urn:x-warning:cap:{record.identifier}")
    _atom(entry, "title", record.headline or f"{record.event}: {', '.join(record.areas)}")
    _atom(entry, "updated", record.sent)
    _atom(entry, "summary", f"{record.msg_type} {record.status}: {', '.join(record.areas)}")
    link = etree.SubElement(entry, f"{{{ATOM_NS}}}link")
    link.attrib.update(
        {"rel": "alternate", "type": "application/cap+xml", "href": f"{record.identifier}.xml"}
    )


def _atom(parent: etree._Element, tag: str, text: str) -> None:
    """Append an Atom text element."""
    etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}").text = text


def cap_listing(records: list[CapRecord]) -> str:
    """`warning cap list` text: one document per line, columns separated by two spaces."""
    if not records:
        return "no current CAP documents\n"
    lines = [
        "  ".join(
            (
                r.identifier,
                r.msg_type,
                r.status,
                r.event,
                ", ".join(r.areas),
                r.sent,
                r.expires or "-",
            )
        )
        for r in records
    ]
    return "\n".join(lines) + "\n"


def cap_channel(
    settings: Settings, areas: AreaIndex | None, _secret: SecretGetter | None = None
) -> CapChannel:
    """The CAP channel of the settings (`[cap] directory` and `sender`).

    Without `areas` the configured areas file is loaded (polygons and geocodes
    need it); the secrets getter of the registry signature is unused: CAP has none.
    """
    index = areas if areas is not None else load_areas(settings.areas_path)
    cap = settings.cap
    publisher = Publisher(cap.sender_name, cap.web, cap.contact, timedelta(hours=cap.expires_h))
    return CapChannel(settings.cap_dir, cap.sender, index, publisher=publisher)
