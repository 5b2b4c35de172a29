"""Contacts: who gets which SMS, read from the officials' CSV and checked line by line.

Columns `phone,name,areas,group,language,drill`.  Phones are E.164 (spaces and
dashes allowed for readability); Indonesian mobile numbers (+62 8...) are
expected, anything else is allowed with a warning.  `areas` holds kelurahan or
kecamatan ids (a kecamatan means all its kelurahan) or `all`, separated by `;`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sys
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from warning.areas import AreaIndex, load_areas
from warning.model import OFFICIALS_GROUP, ConfigError, Contact, Problem, Severity

__all__ = [
    "COLUMNS",
    "LANGUAGES",
    "Contact",  # defined in warning.model (the store holds contacts too), named here as before
    "ContactFile",
    "check",
    "check_file",
    "contact_file",
    "file_digest",
    "iter_contacts",
    "load_contacts",
    "load_valid_contacts",
    "normalise_phone",
    "parse_contacts",
    "phone_problem",
]

COLUMNS = ("phone", "name", "areas", "group", "language", "drill")
LANGUAGES = ("id", "en")

# ASCII digits only: `\d` would also take Arabic-Indic or fullwidth digits, which
# look like a number to a person and reach Twilio as something else.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_INDONESIAN_MOBILE = re.compile(r"\+628[0-9]{8,11}")
_GROUP = re.compile(r"[a-z0-9][a-z0-9_-]*")
_BOOLEANS: Mapping[str, bool] = {"true": True, "false": False, "": False}


def normalise_phone(raw: str) -> str:
    """The number without the spaces, dashes and brackets people write for readability."""
    return re.sub(r"[\s\-().]", "", raw)


def phone_problem(phone: str) -> tuple[Severity, str] | None:
    """Why `phone` (normalised) is wrong or doubtful, or None when it is a mobile +62 8..."""
    if not _E164.fullmatch(phone):
        return (Severity.ERROR, f'phone "{phone}" is not E.164 (write it as +62812...)')
    if not _INDONESIAN_MOBILE.fullmatch(phone):
        return (Severity.WARNING, f'phone "{phone}" is not an Indonesian mobile number (+62 8...)')
    return None


def parse_contacts(text: str, areas: AreaIndex, where: str) -> tuple[list[Contact], list[Problem]]:
    """Every valid contact and every problem (with its line number) of a contacts CSV."""
    problems: list[Problem] = []
    contacts = list(iter_contacts(io.StringIO(text, newline=""), areas, where, problems))
    return contacts, problems


def iter_contacts(
    lines: Iterable[str], areas: AreaIndex, where: str, problems: list[Problem]
) -> Iterator[Contact]:
    """The valid contacts of a contacts CSV's lines one at a time; problems appended.

    A city's file is read line by line, without a list of everyone (nor its whole
    text: the store takes them one by one).
    """
    reader = csv.DictReader(lines)
    problems += _header_problems(reader.fieldnames, where)
    if any(p.severity is Severity.ERROR for p in problems):
        return
    seen: dict[str, int] = {}
    # A city's 100,000 people name a few hundred distinct area sets: each is held once.
    area_sets: dict[frozenset[str], frozenset[str]] = {}
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values()):
            continue
        contact = _contact(row, line, areas, where, problems, area_sets=area_sets)
        if contact is None:
            continue
        if contact.phone in seen:
            message = f"phone {contact.phone} already listed on line {seen[contact.phone]}"
            problems.append(Problem(where, message + ": merge the rows", line=line))
            continue
        seen[contact.phone] = line
        yield contact


def _header_problems(header: Iterable[str] | None, where: str) -> list[Problem]:
    """The header must name exactly the six columns."""
    names = [h.strip() for h in header or ()]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS]
    problems = [Problem(where, f'missing column "{c}"', line=1) for c in missing]
    problems += [Problem(where, f'unknown column "{n}"', line=1) for n in unknown]
    if not names:
        problems = [Problem(where, f"empty file: the header must be {','.join(COLUMNS)}")]
    return problems


def _contact(
    row: Mapping[str, str | None],
    line: int,
    areas: AreaIndex,
    where: str,
    found: list[Problem],
    *,
    area_sets: dict[frozenset[str], frozenset[str]],
) -> Contact | None:
    """One row as a Contact, or None after recording why it is bad."""
    cell = {c: (row.get(c) or "").strip() for c in COLUMNS}
    problems: list[tuple[Severity, str]] = []
    phone = normalise_phone(cell["phone"])
    checked = phone_problem(phone)
    if checked:
        problems.append(checked)
    kelurahan = _areas(cell["areas"], areas, problems)
    kelurahan = area_sets.setdefault(kelurahan, kelurahan)
    group = sys.intern(cell["group"].lower())
    if not _GROUP.fullmatch(group):
        problems.append((Severity.ERROR, f'group "{cell["group"]}" must be a word like officials'))
    language = sys.intern(cell["language"].lower() or "id")
    if language not in LANGUAGES:
        problems.append((Severity.ERROR, f'language "{cell["language"]}" must be id or en'))
    drill = _BOOLEANS.get(cell["drill"].lower())
    if drill is None:
        problems.append((Severity.ERROR, f'drill "{cell["drill"]}" must be true or false'))
    found.extend(Problem(where, message, line=line, severity=s) for s, message in problems)
    if any(s is Severity.ERROR for s, _ in problems) or drill is None:
        return None
    return Contact(phone, cell["name"], kelurahan, group, language, drill, line)


def _areas(text: str, areas: AreaIndex, problems: list[tuple[Severity, str]]) -> frozenset[str]:
    """Kelurahan ids of an `areas` cell; unknown ids are problems."""
    words = [w.strip() for w in text.split(";") if w.strip()]
    if not words:
        problems.append((Severity.ERROR, "areas is empty: name kelurahan, kecamatan or all"))
    chosen: set[str] = set()
    for word in words:
        try:
            chosen.update(areas.select(word))
        except KeyError:
            problems.append((Severity.ERROR, f'unknown area "{word}" in areas'))
    return frozenset(chosen)


#: The contact group of officials (health notices, safety timeouts, the dispatcher's outage notes).


@dataclass(frozen=True, slots=True)
class ContactFile:
    """The contacts file as loaded: how many people, its hash, and only the few kept in memory.

    A city's file lists hundreds of thousands of people: the daemon keeps them in
    its store (the SMS fan-out is written from there) and holds as objects only
    the groups it reads person by person (`kept_groups`: officials and the
    escalation chain's groups).  Iterating reads the file again (the store's
    loading and `warning check`), checking that it is still what was validated.
    """

    path: Path | None = None
    areas: AreaIndex | None = field(default=None, compare=False, repr=False)
    digest: str = ""
    count: int = 0
    kept: tuple[Contact, ...] = ()
    kept_groups: frozenset[str] = frozenset({OFFICIALS_GROUP})

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    def __iter__(self) -> Iterator[Contact]:
        """Every valid contact of the file, one at a time; ConfigError if it changed since."""
        if self.path is None or self.areas is None:
            return iter(())
        if file_digest(self.path, self.areas) != self.digest:
            message = "contacts file changed since it was loaded: send SIGHUP to reload it"
            raise ConfigError(Problem(str(self.path), message))
        return iter_contacts(_lines(self.path), self.areas, str(self.path), [])

    @property
    def officials(self) -> tuple[Contact, ...]:
        """The officials group (few people)."""
        return self.of_groups((OFFICIALS_GROUP,))

    def of_groups(self, groups: Collection[str]) -> tuple[Contact, ...]:
        """The contacts of these groups; read from the file when not all are kept."""
        if set(groups) <= self.kept_groups:
            return tuple(c for c in self.kept if c.group in groups)
        return tuple(c for c in self if c.group in groups)


def file_digest(path: Path, areas: AreaIndex) -> str:
    """A hash of the contacts file and of the kelurahan its area words resolve to."""
    h = hashlib.sha256()
    try:
        with path.open("rb") as raw:
            for chunk in iter(lambda: raw.read(1 << 16), b""):
                h.update(chunk)
    except OSError as exc:
        raise ConfigError(Problem(str(path), f"cannot read contacts: {exc}")) from None
    for kecamatan in areas.kecamatan:
        h.update(f"|{kecamatan.id}:{','.join(sorted(areas.select(kecamatan.id)))}".encode())
    h.update(",".join(sorted(a.id for a in areas.kelurahan)).encode())
    return h.hexdigest()


def contact_file(
    path: Path, areas: AreaIndex, *, starting: bool, kept_groups: Collection[str] = ()
) -> tuple[ContactFile, list[Problem]]:
    """The file loaded as a `ContactFile` and its bad rows (left out when `starting`).

    A reload refuses a file with any bad row (ConfigError with every error).
    """
    groups = frozenset({OFFICIALS_GROUP, *kept_groups})
    problems: list[Problem] = []
    count = 0
    kept: list[Contact] = []
    for contact in iter_contacts(_lines(path), areas, str(path), problems):
        count += 1
        if contact.group in groups:
            kept.append(contact)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors and (not starting or any(p.line in (None, 1) for p in errors)):
        raise ConfigError(errors)
    loaded = ContactFile(path, areas, file_digest(path, areas), count, tuple(kept), groups)
    return loaded, errors


def load_contacts(path: Path, areas: AreaIndex) -> tuple[Contact, ...]:
    """The contacts of a CSV file; ConfigError with every error at once (warnings pass)."""
    contacts, problems = parse_contacts(_read(path), areas, str(path))
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        raise ConfigError(errors)
    return tuple(contacts)


def load_valid_contacts(path: Path, areas: AreaIndex) -> tuple[tuple[Contact, ...], list[Problem]]:
    """At start: the valid rows and every bad row's error (one bad row must not stop warnings).

    A file that cannot be read or has a wrong header has no valid row: ConfigError.
    """
    contacts, problems = parse_contacts(_read(path), areas, str(path))
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if any(p.line in (None, 1) for p in errors):
        raise ConfigError(errors)
    return tuple(contacts), errors


def _lines(path: Path) -> Iterator[str]:
    """The file's lines one at a time, or ConfigError saying why it cannot be read."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            yield from lines
    except FileNotFoundError:
        raise ConfigError(Problem(str(path), "contacts file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(str(path), f"cannot read contacts: {exc}")) from None


def _read(path: Path) -> str:
    """The file's text, or ConfigError saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(Problem(str(path), "contacts file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(str(path), f"cannot read contacts: {exc}")) from None


def check_file(path: Path, areas: AreaIndex, opted_out: Collection[str] = ()) -> list[Problem]:
    """Every problem of a contacts file, plus a warning per number on the opt-out list."""
    try:
        contacts, problems = parse_contacts(_read(path), areas, str(path))
    except ConfigError as exc:
        return list(exc.problems)
    for contact in contacts:
        if contact.phone in opted_out:
            message = f"phone {contact.phone} unsubscribed (STOP, Twilio 21610): SMS are skipped"
            problems.append(
                Problem(str(path), message, line=contact.line, severity=Severity.WARNING)
            )
    return sorted(problems, key=lambda p: p.line or 0)


def check(path: Path | None, areas_path: Path, opted_out: Collection[str] = ()) -> list[Problem]:
    """`warning check` of the contacts file `path` ([contacts] path, None: not configured).

    No contacts is a warning, a configured but missing file an error.
    """
    if path is None:
        message = "no contacts configured ([contacts] path): no SMS will be sent"
        return [Problem("contacts", message, severity=Severity.WARNING)]
    if not path.is_file():
        return [Problem(str(path), "contacts file not found ([contacts] path)")]
    try:
        areas = load_areas(areas_path)
    except ConfigError as exc:
        return list(exc.problems)
    return check_file(path, areas, opted_out)
