"""SMS texts: prefixes, level, areas, action, GSM-7, one segment whatever the template."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from warning.model import Level, ObservationKind, TransitionKind
from warning.plan.messages import (
    ACTIONS,
    SEGMENT,
    MessageContext,
    area_phrase,
    gsm7_units,
    render,
    to_gsm7,
)

AT = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)  # 10:30 WITA
NAMES = ("Manggar", "Lamaru", "Teritip", "Manggar Baru", "Batu Ampar")
TEMPLATE = {
    "id": "Gempa M{magnitude:.1f} kedalaman {depth_km} km. {level} di {area} {time_wita}. {action}",
    "en": "M{magnitude} quake. {level} in {area} at {time_wita}. {action}",
}


def _context(**changes: object) -> MessageContext:
    base: dict[str, object] = {
        "kind": ObservationKind.EARTHQUAKE,
        "transition": TransitionKind.FIRED,
        "level": Level.SIAGA,
        "area_names": NAMES[:2],
        "time": AT,
        "values": {"magnitude": 6.23, "depth_km": 10},
    }
    return MessageContext(**{**base, **changes})  # type: ignore[arg-type]


def test_the_template_is_filled_in_wita() -> None:
    """Placeholders, the kind's values with format specs, and the WITA time."""
    text = render(TEMPLATE, _context(), "id")
    assert text == (
        "Gempa M6.2 kedalaman 10 km. SIAGA di Manggar dan Lamaru 01/03 10:30 WITA. "
        + ACTIONS["id"][Level.SIAGA]
    )


def test_a_language_without_template_falls_back_to_indonesian() -> None:
    """An English contact of an Indonesian-only rule gets the Indonesian text."""
    assert render({"id": TEMPLATE["id"]}, _context(), "en") == render(TEMPLATE, _context(), "id")


def test_area_names_are_compact() -> None:
    """Up to three names in full, then two and a count, in both languages."""
    assert area_phrase(NAMES[:3], "id") == "Manggar, Lamaru dan Teritip"
    assert area_phrase(NAMES, "id") == "Manggar, Lamaru dan 3 kelurahan lain"
    assert area_phrase(NAMES, "en") == "Manggar, Lamaru and 3 more kelurahan"


def test_a_drill_all_clear_reads_latihan_aman() -> None:
    """The drill prefix comes before the all-clear prefix, in each language."""
    ctx = _context(transition=TransitionKind.RESOLVED, drill=True)
    assert render(TEMPLATE, ctx, "id").startswith("LATIHAN: AMAN: Gempa")
    assert render(TEMPLATE, ctx, "en").startswith("DRILL: ALL CLEAR: M6.2 quake")


def test_non_gsm_characters_are_transliterated() -> None:
    """Accents fold, smart quotes and dashes become plain ones."""
    assert to_gsm7("Café “aman” – ‘ya’…") == "Cafe \"aman\" - 'ya'..."


def test_extension_characters_count_double() -> None:
    """GSM-7 extension characters ([ ] { } ^ ~ | € \\) take two units."""
    assert gsm7_units("[a]€") == 7


def test_a_long_area_list_shrinks_before_the_text_is_cut() -> None:
    """Policy step 1: the area list shrinks first; level and action stay."""
    template = {"id": "{level} {area}. " + "Keterangan panjang sekali. " * 4 + "{action}"}
    text = render(template, _context(area_names=NAMES), "id")
    assert gsm7_units(text) <= SEGMENT
    assert "SIAGA" in text
    assert ACTIONS["id"][Level.SIAGA] in text
    assert "kelurahan" in text


def test_a_template_without_essentials_gets_them_added() -> None:
    """Level in front, area and action at the end when the template leaves them out."""
    text = render({"id": "Hati-hati."}, _context(), "id")
    assert text == "SIAGA Hati-hati. Manggar dan Lamaru " + ACTIONS["id"][Level.SIAGA]


values = st.dictionaries(
    st.sampled_from(["magnitude", "depth_km", "event", "region", "x"]),
    st.one_of(st.none(), st.floats(allow_nan=True), st.integers(), st.text(max_size=300)),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    template=st.text(max_size=400),
    vals=values,
    level=st.sampled_from(list(Level)),
    kind=st.sampled_from([k for k in TransitionKind if k.notifies]),
    drill=st.booleans(),
    language=st.sampled_from(["id", "en", "fr"]),
    count=st.integers(min_value=1, max_value=12),
    event=st.text(max_size=200),
)
def test_any_template_fits_one_segment_with_prefixes_and_level(  # noqa: PLR0917 - hypothesis
    template: str,
    vals: dict[str, object],
    level: Level,
    kind: TransitionKind,
    drill: bool,
    language: str,
    count: int,
    event: str,
) -> None:
    """Whatever the template and values: <= 160 GSM-7 units, right prefixes, level word kept."""
    names = tuple((NAMES * 3)[:count])
    ctx = _context(
        transition=kind, level=level, drill=drill, values=vals, area_names=names, event=event
    )
    text = render({"id": template, "en": template}, ctx, language)
    lang = "en" if language == "en" else "id"
    prefix = ("DRILL: " if lang == "en" else "LATIHAN: ") if drill else ""
    if kind in (TransitionKind.RESOLVED, TransitionKind.TIMED_OUT):
        prefix += "ALL CLEAR: " if lang == "en" else "AMAN: "
    assert gsm7_units(text) <= SEGMENT
    assert to_gsm7(text) == text
    assert text.startswith(prefix)
    assert level.word in text
    assert ACTIONS[lang][None if "AMAN" in prefix or "CLEAR" in prefix else level] in text
