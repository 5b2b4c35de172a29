"""The rule-file schema: one table that drives validation and renders `docs/rules.md`.

Every key a rule may hold is a `Key` with its type, whether it is required,
its default, a description and an example.  The loader looks each written key
up here (unknown keys are errors), and `render_reference()` turns the same
data into the Markdown reference officials read, so the two cannot disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType

from warning.model import (
    KIND_VALUES,
    Aggregation,
    Comparison,
    EndReason,
    Level,
    ObservationKind,
    ReportCategory,
)


class FieldType(enum.Enum):
    """What a key's value must be; each has one parser in the loader."""

    SLUG = "slug"
    TEXT = "text"
    KIND = "kind"
    EXPRESSION = "conditions"
    SELECTORS = "area selectors"
    LEVEL = "level"
    LADDER = "level ladder"
    DURATION = "duration"
    ACTIONS = "actions"
    GROUPS = "recipient groups"
    MESSAGES = "message templates"
    FLAG = "true/false"
    SOURCES = "sources"


@dataclass(frozen=True, slots=True)
class Key:
    """One key of a rule: its type, documentation and where it lands in `model.Rule`."""

    name: str
    type: FieldType
    description: str
    example: str
    required: bool = False
    default: str = ""
    field: str = ""

    @property
    def description_id(self) -> str:
        """The description in Bahasa Indonesia (docs/aturan.md)."""
        return KEY_DESCRIPTIONS_ID[self.name]

    @property
    def attribute(self) -> str:
        """The `model.Rule` attribute this key fills."""
        return self.field or self.name


RULE_KEYS: tuple[Key, ...] = (
    Key(
        "id",
        FieldType.SLUG,
        "Unique name of the rule across all files: lower-case letters, digits and dashes. "
        "Alerts, rule tests and logs refer to it; changing it starts the rule afresh.",
        "id: hujan-sangat-lebat-24j",
        required=True,
    ),
    Key(
        "name",
        FieldType.TEXT,
        "Short human name (Bahasa Indonesia is fine), shown to operators.",
        "name: Hujan sangat lebat 24 jam",
        required=True,
    ),
    Key(
        "description",
        FieldType.TEXT,
        "Why this threshold, and its source. A rule without one is a warning.",
        "description: BMKG 'sangat lebat' starts at 100 mm in 24 h.",
    ),
    Key(
        "kind",
        FieldType.KIND,
        "The observation kind the rule reads: "
        + ", ".join(k.value for k in ObservationKind)
        + ". It decides which values and placeholders the rule may use.",
        "kind: rainfall",
        required=True,
    ),
    Key(
        "when",
        FieldType.EXPRESSION,
        "Conditions on the observation's values. A condition is `{value: NAME, OP: operand}` "
        "with OP one of " + ", ".join(f"`{c.value}`" for c in Comparison) + "; add `over` and "
        "`agg` to fold the values seen per area in a time window. Combine with `all:` / `any:` "
        "(nestable); a plain list means `all`. Required, unless every step of `levels` has its own "
        "`when`: a rule without a condition would fire on every observation of its kind.",
        'when:\n  all:\n    - {value: magnitude, ">=": 6.0}\n    - {value: depth_km, "<": 70}',
    ),
    Key(
        "areas",
        FieldType.SELECTORS,
        "Which kelurahan the rule watches: `all`, `coastal`, `kecamatan:<id>`, a kelurahan or "
        "kecamatan id, or a list of these. Observations only ever reach the areas they touch.",
        "areas: [coastal, kecamatan:balikpapan-timur]",
        default="all",
    ),
    Key(
        "level",
        FieldType.LEVEL,
        "The level the rule fires at: waspada, siaga or awas. Write `level` or `levels`.",
        "level: siaga",
    ),
    Key(
        "levels",
        FieldType.LADDER,
        "An escalation ladder instead of `level`: a list of `{level, when, message}` from "
        "lowest to highest; the highest step whose `when` holds gives the level (a step without "
        "`when` always holds). The rule's own `when` must hold first. One event or one series "
        "is one alert that escalates and de-escalates along the ladder and ends once, with one "
        "all-clear. A step may carry its own `message`, `update_message` and `end_message` "
        "(same form and checks as the rule's), used at that level and, for `end_message`, when "
        "the alert ends at that level; a step without one uses the rule's.",
        'levels:\n  - level: waspada\n    when: {value: level, "==": waspada}\n'
        '    message: {id: "{level} TSUNAMI di {area}. Jauhi pantai."}\n'
        '  - {level: siaga, when: {value: level, "==": siaga}}',
        field="levels",
    ),
    Key(
        "for",
        FieldType.DURATION,
        "How long the condition must keep holding before the rule fires (pending until then).",
        "for: 10m",
        default="0s",
        field="for_duration",
    ),
    Key(
        "keep_firing_for",
        FieldType.DURATION,
        "Keep firing this long after the condition stops holding (against flapping).",
        "keep_firing_for: 30m",
        default="0s",
    ),
    Key(
        "clear_when",
        FieldType.EXPRESSION,
        "Resolve only when these conditions hold, instead of as soon as `when` stops holding. "
        "For events (earthquake, tsunami_warning, weather_warning) a later revision or bulletin "
        "of the same event that no longer meets `when` then keeps the alert at its level until "
        "`clear_when` holds, the event ends (PD-4, CAP Cancel) or times out.",
        'clear_when: {value: level, "==": ended}',
    ),
    Key(
        "repeat_every",
        FieldType.DURATION,
        "Send a reminder this often while the rule keeps firing. Default: no reminders.",
        "repeat_every: 2h",
    ),
    Key(
        "expire_after",
        FieldType.DURATION,
        "End an instantaneous event (a quake) this long after the event's time. "
        "Default 1h for earthquakes; a quake alert then expires without any message (there "
        "is no all-clear for aftershocks). A weather warning ends at its own CAP `expires`; "
        "this only applies when the CAP has none. Not allowed for tsunami_warning: a tsunami "
        "warning ends only with its PD-4 bulletin or the engine's 12 h safety timeout.",
        "expire_after: 1h",
    ),
    Key(
        "public_sources",
        FieldType.SOURCES,
        "Which feeds may reach the public (sirens and every recipient group): feed names, "
        "or a family such as `bmkg` (every `bmkg-*` feed), or `any`. An event known only from "
        "another source (USGS before BMKG) goes to officials only, labelled with its source; "
        "when BMKG reports it, the public hears it once, with BMKG's figures. Default for "
        "earthquake, tsunami_warning and weather_warning: `[bmkg, inatews]` (BMKG is the "
        "authority); for measurements: `any`.",
        "public_sources: [bmkg, inatews]",
        default="[bmkg, inatews] for events, any for measurements",
    ),
    Key(
        "late_after",
        FieldType.DURATION,
        "An event whose time is older than this when the rule first sees it goes to officials "
        "only, marked late, never to sirens or the public (a restart after an outage must not "
        "send a 50-minute-old quake to everyone as if it had just happened). Default 15m for "
        "earthquakes; none for warnings in force (tsunami_warning until PD-4, weather_warning "
        "until its CAP `expires`), whose threat lies ahead however late they are seen.",
        "late_after: 15m",
        default="15m for earthquakes",
    ),
    Key(
        "actions",
        FieldType.ACTIONS,
        "What firing does: any of sms, siren, cap. A siren means 'act now': it sounds only at "
        "siaga and awas (`alert` and `attack`); at waspada a rule notifies by SMS and CAP only. "
        "A rule whose levels never reach siaga may not have a siren unless it says "
        "`allow_siren_below_siaga: true`; a ladder that starts at waspada and reaches siaga may. "
        "When an alert falls from siaga or awas to waspada, or ends, sirens get `all-clear`.",
        "actions: [sms, siren, cap]",
        default="[sms]",
    ),
    Key(
        "allow_siren_below_siaga",
        FieldType.FLAG,
        "Allow a siren for a waspada level (normally an error).",
        "allow_siren_below_siaga: true",
        default="false",
    ),
    Key(
        "recipients",
        FieldType.GROUPS,
        "Contact groups that get the SMS, e.g. officials, rt-heads, siskamling, public. "
        "Default: every group.",
        "recipients: [officials, rt-heads]",
        default="every group",
    ),
    Key(
        "message",
        FieldType.MESSAGES,
        "SMS text when the alert is raised (and at every escalation or de-escalation), per "
        "language: `id` (Bahasa Indonesia) required, `en` optional. Write the whole SMS: the "
        "level, where, what happened and what to do; nothing is added to it. Use only the "
        "placeholders of the rule's kind (below), in braces. `warning rules check` renders it "
        "on sample facts and refuses a text longer than one SMS (160 GSM-7 characters, with "
        'the "LATIHAN: " drill prefix) or a placeholder that can be empty for the kind. '
        "Required, except in a `levels` rule whose every step has its own `message`.",
        'message:\n  id: "{level}: Hujan sangat lebat {precipitation_mm} mm/24 jam di {area}. '
        'Jauhi sungai dan lereng."\n'
        '  en: "{level}: Very heavy rain {precipitation_mm} mm/24 h in {area}. '
        'Keep away from rivers and slopes."',
        required=True,
        field="messages",
    ),
    Key(
        "update_message",
        FieldType.MESSAGES,
        "SMS text when the same warning is updated at the same level (a new bulletin that "
        "changes what people act on) or repeated by `repeat_every`. Default: `message`.",
        'update_message:\n  id: "PEMUTAKHIRAN {level}: Hujan {precipitation_mm} mm/24 jam di '
        '{area}. Tetap jauhi sungai."',
        field="update_messages",
    ),
    Key(
        "end_message",
        FieldType.MESSAGES,
        "SMS text when the alert ends (all-clear, safety timeout, expiry, operator cancel): "
        "say what ended; never repeat the warning's instruction. Required for every kind "
        "except earthquake (a quake alert expires silently: there is no all-clear for "
        "aftershocks).",
        'end_message:\n  id: "Hujan sangat lebat di {area} telah reda. Tetap hati-hati di '
        'jalan tergenang."',
        field="end_messages",
    ),
)

#: Every rule key's description in Bahasa Indonesia, for docs/aturan.md.
KEY_DESCRIPTIONS_ID: Mapping[str, str] = MappingProxyType(
    {
        "id": (
            "Nama unik aturan di semua berkas: huruf kecil, angka dan tanda hubung. "
            "Peringatan, uji aturan dan log merujuknya; mengganti id memulai aturan dari "
            "awal."
        ),
        "name": ("Nama singkat untuk manusia (boleh Bahasa Indonesia), tampil bagi operator."),
        "description": (
            "Alasan ambang ini dan sumbernya. Aturan tanpa description diberi peringatan."
        ),
        "kind": (
            "Jenis pengamatan yang dibaca aturan: earthquake, tsunami_warning, rainfall, "
            "wind, sea_level, weather_warning. Jenis menentukan nilai dan isian yang boleh "
            "dipakai."
        ),
        "when": (
            "Syarat atas nilai pengamatan. Satu syarat ditulis `{value: NAMA, OP: angka}`; "
            "tambahkan `over` dan `agg` untuk menghimpun nilai per wilayah dalam jangka "
            "waktu. Gabungkan dengan `all:` / `any:`; daftar biasa berarti `all`. Angka "
            "desimal memakai titik (40.5), bukan koma. Tanpa `when`, setiap pengamatan jenis "
            "ini memicu aturan."
        ),
        "areas": (
            "Kelurahan yang dipantau: `all`, `coastal`, `kecamatan:<id>`, id kelurahan atau "
            "kecamatan, atau nama di peta (mis. `Gunung Sari Ulu`, huruf besar/kecil bebas), "
            "atau daftarnya."
        ),
        "level": (
            "Level saat aturan aktif: waspada, siaga atau awas (huruf besar/kecil bebas). "
            "Tulis `level` atau `levels`."
        ),
        "levels": (
            "Tangga level sebagai ganti `level`: daftar `{level, when, message}` dari "
            "terendah ke tertinggi; langkah tertinggi yang `when`-nya terpenuhi menentukan "
            "level. Satu kejadian adalah satu peringatan yang naik dan turun di tangga ini "
            "dan berakhir sekali. Setiap langkah boleh punya `message`, `update_message` dan "
            "`end_message` sendiri."
        ),
        "for": ("Berapa lama syarat harus bertahan sebelum aturan aktif."),
        "keep_firing_for": (
            "Tetap aktif selama ini setelah syarat tidak terpenuhi (mencegah naik-turun)."
        ),
        "clear_when": (
            "Berakhir hanya bila syarat ini terpenuhi, bukan segera setelah `when` tidak "
            "terpenuhi (mis. PD-4 untuk tsunami)."
        ),
        "repeat_every": (
            "Kirim pengingat (dengan `update_message`) sesering ini selama aturan aktif. "
            "Bawaan: tanpa pengingat."
        ),
        "expire_after": (
            "Akhiri kejadian sesaat (gempa) selama ini setelah waktu kejadian. Bawaan 1 jam "
            "untuk gempa. Tidak boleh untuk tsunami_warning."
        ),
        "public_sources": (
            "Feed mana yang boleh sampai ke warga (sirene dan semua kelompok penerima): nama feed, "
            "atau keluarga seperti `bmkg` (semua feed `bmkg-*`), atau `any`. Kejadian yang hanya "
            "diketahui dari sumber lain (USGS sebelum BMKG) hanya ke petugas, dengan sumbernya; "
            "saat BMKG melaporkannya, warga mendengarnya sekali, dengan angka BMKG. Bawaan untuk "
            "earthquake, tsunami_warning dan weather_warning: `[bmkg, inatews]`; untuk "
            "pengukuran: `any`."
        ),
        "late_after": (
            "Kejadian yang waktunya lebih tua dari ini saat aturan pertama melihatnya hanya ke "
            "petugas, ditandai terlambat, tidak pernah ke sirene atau warga. Bawaan 15m untuk "
            "gempa; tidak ada untuk peringatan yang masih berlaku (tsunami sampai PD-4, "
            "peringatan cuaca sampai CAP `expires`)."
        ),
        "actions": (
            "Yang dilakukan saat aktif: sms, siren, cap. Sirene hanya berbunyi pada siaga dan awas."
        ),
        "allow_siren_below_siaga": ("Izinkan sirene pada level waspada (biasanya kesalahan)."),
        "recipients": (
            "Kelompok kontak penerima SMS, mis. officials, rt-heads, siskamling, public. "
            "Bawaan: semua kelompok."
        ),
        "message": (
            "Teks SMS saat peringatan naik (dan saat naik/turun level), per bahasa: `id` "
            "wajib, `en` boleh. Tulis SMS utuh: level, di mana, apa yang terjadi dan apa yang "
            "harus dilakukan; tidak ada yang ditambahkan. `warning rules check` "
            "menampilkannya dengan data contoh dan menolak teks lebih dari satu SMS (160 "
            'karakter GSM-7, termasuk awalan "LATIHAN: ") atau isian yang bisa kosong.'
        ),
        "update_message": (
            "Teks SMS saat peringatan yang sama diperbarui pada level yang sama, atau diulang "
            "oleh `repeat_every`. Bawaan: `message`."
        ),
        "end_message": (
            "Teks SMS saat peringatan berakhir (aman, batas waktu, kedaluwarsa, dibatalkan "
            "operator): sebutkan apa yang berakhir; jangan ulangi instruksi peringatan. Wajib "
            "untuk semua jenis kecuali earthquake (peringatan gempa berakhir tanpa SMS: tidak "
            "ada 'aman' untuk gempa susulan)."
        ),
    }
)

#: Rule keys by name.
RULE_KEY_INDEX: Mapping[str, Key] = MappingProxyType({k.name: k for k in RULE_KEYS})

#: Keys of one `levels:` step.
STEP_KEYS: tuple[str, ...] = ("level", "when", "message", "update_message", "end_message")

#: The message keys of a rule or a step and the change they are sent for.
MESSAGE_KEYS: tuple[str, ...] = ("message", "update_message", "end_message")

#: Languages a `message` may have; the first is required.
LANGUAGES: tuple[str, ...] = ("id", "en")

#: Keys of a condition besides its operator.
CONDITION_KEYS: tuple[str, ...] = ("value", "over", "agg")

#: Keys that combine conditions.
COMBINATORS: tuple[str, ...] = ("all", "any")

#: Contact groups every installation has; other slugs are allowed too.
STANDARD_GROUPS: tuple[str, ...] = ("officials", "rt-heads", "siskamling", "public")

#: Selectors that are not area ids.
SELECTOR_WORDS: tuple[str, ...] = ("all", "coastal")

#: Kinds whose observations have a point, so `distance_km` means something.
POINT_KINDS: frozenset[ObservationKind] = frozenset({ObservationKind.EARTHQUAKE})


class ValueType(enum.Enum):
    """What kind of operand a value compares with."""

    NUMBER = "number"
    FLAG = "true/false"
    WORD = "word"
    TEXT = "text"
    TIME = "time"


@dataclass(frozen=True, slots=True)
class ValueDoc:
    """One observation value: its type, meaning, allowed words and message renderings.

    `sample` is a realistic value `warning rules check` renders messages with,
    `widest` the longest text the value can print as (for the one-SMS check);
    `maybe_empty` the kinds whose observations may lack it (a feed that does not
    report it), where a message may use it only if the rule's `when` requires it.
    """

    name: str
    type: ValueType
    description: str
    widest: str
    kinds: frozenset[ObservationKind]
    choices: tuple[str, ...] = ()
    sample: str | float | int | bool = ""
    maybe_empty: frozenset[ObservationKind] = frozenset()
    description_id: str = ""

    @property
    def comparable(self) -> bool:
        """Values that may appear in conditions (times are for messages only)."""
        return self.type is not ValueType.TIME


_K = ObservationKind
_QUAKES = frozenset({_K.EARTHQUAKE, _K.TSUNAMI_WARNING})
_QUAKE = frozenset({_K.EARTHQUAKE})
_TSUNAMI = frozenset({_K.TSUNAMI_WARNING})
_CAP = frozenset({_K.WEATHER_WARNING})

VALUES: tuple[ValueDoc, ...] = (
    ValueDoc(
        "magnitude",
        ValueType.NUMBER,
        "Magnitude (M), printed with a decimal comma (M5,6).",
        "10,0",
        _QUAKES,
        sample=5.6,
        description_id="Magnitudo (M), tertulis dengan koma desimal (M5,6).",
    ),
    ValueDoc(
        "depth_km",
        ValueType.NUMBER,
        "Hypocentre depth in km.",
        "800",
        _QUAKES,
        sample=10,
        description_id="Kedalaman pusat gempa dalam km.",
    ),
    ValueDoc(
        "distance_km",
        ValueType.NUMBER,
        "Geodesic distance in km from the epicentre to the area's polygon (0 inside), "
        "printed as whole km.",
        "20000",
        POINT_KINDS,
        sample=120,
        description_id="Jarak geodesik (km bulat) dari pusat gempa ke wilayah (0 di dalamnya).",
    ),
    ValueDoc(
        "tsunami_potential",
        ValueType.FLAG,
        "BMKG's own verdict that the quake may cause a tsunami (for conditions; print "
        "`{potensi}` for BMKG's words). Missing in felt reports and non-BMKG feeds.",
        "tidak",
        _QUAKE,
        sample=False,
        maybe_empty=_QUAKE,
        description_id="Penilaian BMKG bahwa gempa berpotensi tsunami (untuk syarat; di SMS "
        "tulis `{potensi}`). Tidak ada di laporan gempa dirasakan dan sumber selain BMKG.",
    ),
    ValueDoc(
        "potensi",
        ValueType.TEXT,
        "BMKG's tsunami verdict in BMKG's own words, e.g. 'Tidak berpotensi tsunami'; "
        "'belum ada info tsunami' when BMKG has not judged (felt reports, non-BMKG feeds).",
        "Potensi tsunami untuk diteruskan pada masyarakat",
        _QUAKE,
        sample="Tidak berpotensi tsunami",
        description_id="Penilaian tsunami dengan kata-kata BMKG, mis. 'Tidak berpotensi "
        "tsunami'; 'belum ada info tsunami' bila BMKG belum menilai (laporan gempa dirasakan, "
        "sumber selain BMKG).",
    ),
    ValueDoc(
        "mmi",
        ValueType.NUMBER,
        "Highest Modified Mercalli intensity BMKG reports felt anywhere, when known.",
        "12",
        _QUAKE,
        sample=3,
        maybe_empty=_QUAKE,
        description_id="Skala MMI tertinggi yang dilaporkan BMKG di mana pun, bila ada.",
    ),
    ValueDoc(
        "felt",
        ValueType.TEXT,
        "BMKG's felt report (`Dirasakan`) as written, e.g. 'III Balikpapan, II Penajam'.",
        "III-IV Balikpapan, III Penajam Paser Utara",
        _QUAKE,
        sample="III Balikpapan, II Penajam",
        maybe_empty=_QUAKE,
        description_id="Laporan 'Dirasakan' BMKG apa adanya, mis. 'III Balikpapan, II Penajam'.",
    ),
    ValueDoc(
        "felt_mmi_balikpapan",
        ValueType.NUMBER,
        "MMI BMKG reports felt in Balikpapan (upper end of a range: 'II-III Balikpapan' is 3); "
        "only BMKG's felt report (gempadirasakan) has it.",
        "XII",
        _QUAKE,
        sample=3,
        maybe_empty=_QUAKE,
        description_id="Skala MMI yang dirasakan di Balikpapan menurut BMKG (batas atas: "
        "'II-III Balikpapan' = 3); hanya laporan gempa dirasakan BMKG yang memilikinya.",
    ),
    ValueDoc(
        "region",
        ValueType.TEXT,
        "BMKG's description of where the quake was.",
        "Pusat gempa berada di laut 120 km Tenggara Kab. Penajam Paser Utara",
        _QUAKES,
        sample="Pusat gempa berada di laut 45 km Tenggara Penajam Paser Utara",
        maybe_empty=_QUAKES,
        description_id="Keterangan BMKG tentang lokasi pusat gempa.",
    ),
    ValueDoc(
        "level",
        ValueType.WORD,
        "InaTEWS level for Balikpapan (absent when the bulletin does not name it); `ended` for "
        "the PD-4 bulletin.",
        "WASPADA",
        _TSUNAMI,
        ("waspada", "siaga", "awas", "ended"),
        sample="siaga",
        description_id="Level InaTEWS untuk Balikpapan; `ended` pada buletin PD-4.",
    ),
    ValueDoc(
        "names_balikpapan",
        ValueType.FLAG,
        "True when the bulletin names Balikpapan in its warning zones.",
        "false",
        frozenset({_K.TSUNAMI_WARNING}),
        sample=True,
        description_id="Benar bila buletin menyebut Balikpapan di zona peringatannya.",
    ),
    ValueDoc(
        "nearby_level",
        ValueType.WORD,
        "The highest InaTEWS level of the districts around Balikpapan (the feed's `nearby` "
        "setting: Penajam Paser Utara, Paser, Kutai Kartanegara, Samarinda, the Sulawesi coast "
        "across the strait); absent when none is named.",
        "WASPADA",
        frozenset({_K.TSUNAMI_WARNING}),
        ("waspada", "siaga", "awas"),
        sample="siaga",
        maybe_empty=frozenset({_K.TSUNAMI_WARNING}),
        description_id="Level InaTEWS tertinggi kabupaten/kota di sekitar Balikpapan (setelan "
        "`nearby`); kosong bila tak satu pun disebut.",
    ),
    ValueDoc(
        "nearby",
        ValueType.TEXT,
        "Those districts with their levels, highest first (two named, then 'dan N lain').",
        "Penajam Paser Utara SIAGA, Kutai Kartanegara SIAGA dan 6 lain",
        frozenset({_K.TSUNAMI_WARNING}),
        sample="Penajam Paser Utara SIAGA, Paser WASPADA",
        maybe_empty=frozenset({_K.TSUNAMI_WARNING}),
        description_id="Kabupaten/kota itu dengan levelnya, tertinggi dulu (dua disebut, lalu "
        "'dan N lain').",
    ),
    ValueDoc(
        "origin_time",
        ValueType.TIME,
        "The quake's origin time the bulletin states (messages only, shown in WITA).",
        "23.59 WITA",
        frozenset({_K.TSUNAMI_WARNING}),
        sample="2026-03-10T02:15:00+00:00",
        description_id="Waktu gempa menurut buletin (hanya untuk pesan, dalam WITA).",
    ),
    ValueDoc(
        "bulletin",
        ValueType.NUMBER,
        "InaTEWS bulletin number, 1 to 4 (PD-4 ends the warning).",
        "4",
        _TSUNAMI,
        sample=1,
        description_id="Nomor buletin InaTEWS, 1 sampai 4 (PD-4 mengakhiri peringatan).",
    ),
    ValueDoc(
        "epicenter_lon",
        ValueType.NUMBER,
        "Epicentre longitude.",
        "-180,00",
        _TSUNAMI,
        sample=118.9,
        description_id="Bujur pusat gempa.",
    ),
    ValueDoc(
        "epicenter_lat",
        ValueType.NUMBER,
        "Epicentre latitude.",
        "-90,00",
        _TSUNAMI,
        sample=-2.7,
        description_id="Lintang pusat gempa.",
    ),
    ValueDoc(
        "arrival_time",
        ValueType.TIME,
        "When InaTEWS expects the wave at Balikpapan (wzarea date/time), in WITA: every "
        "bulletin naming Balikpapan's level carries it.",
        "23.59 WITA",
        _TSUNAMI,
        sample="2026-03-10T02:47:00+00:00",
        description_id="Perkiraan waktu tiba gelombang di Balikpapan (wzarea date/time), "
        "dalam WITA: ada di setiap buletin yang menyebut level Balikpapan.",
    ),
    ValueDoc(
        "precipitation_mm",
        ValueType.NUMBER,
        "Rain in mm during `period_s` (sum it `over` a window for accumulations; a "
        "prakiraan's amount is its slot's total, e.g. 3 hours for BMKG).",
        "999,9",
        frozenset({_K.RAINFALL, _K.PRAKIRAAN}),
        sample=112.4,
        description_id="Curah hujan dalam mm selama `period_s` (jumlahkan dengan `over`; "
        "untuk prakiraan, jumlah satu slot, mis. 3 jam untuk BMKG).",
    ),
    ValueDoc(
        "period_s",
        ValueType.NUMBER,
        "Seconds the rain amount covers (3600 hourly, 10800 a BMKG 3-hour slot).",
        "86400",
        frozenset({_K.RAINFALL, _K.PRAKIRAAN}),
        sample=3600,
        description_id="Lama (detik) yang dicakup angka curah hujan (3600 per jam, 10800 "
        "satu slot BMKG 3 jam).",
    ),
    ValueDoc(
        "wind_speed_ms",
        ValueType.NUMBER,
        "Mean wind speed in m/s.",
        "99,9",
        frozenset({_K.WIND, _K.PRAKIRAAN}),
        sample=14.2,
        description_id="Kecepatan angin rata-rata, m/detik.",
    ),
    ValueDoc(
        "wind_gust_ms",
        ValueType.NUMBER,
        "Wind gust in m/s.",
        "99,9",
        frozenset({_K.WIND, _K.PRAKIRAAN}),
        sample=19.6,
        description_id="Hembusan angin, m/detik.",
    ),
    ValueDoc(
        "lead_s",
        ValueType.NUMBER,
        "Seconds from the forecast's issue to the start of its slot.",
        "259200",
        frozenset({_K.PRAKIRAAN}),
        sample=10800,
        description_id="Detik dari terbitnya prakiraan sampai awal slotnya.",
    ),
    ValueDoc(
        "slot_wita",
        ValueType.TEXT,
        "The forecast slot as people read it, e.g. '10/03 14.00-17.00 WITA'.",
        "31/12 23.00-02.00 WITA",
        frozenset({_K.PRAKIRAAN}),
        sample="10/03 14.00-17.00 WITA",
        description_id="Slot prakiraan seperti dibaca orang, mis. '10/03 14.00-17.00 WITA'.",
    ),
    ValueDoc(
        "valid_from",
        ValueType.TIME,
        "Start of the forecast slot (messages only, shown in WITA).",
        "23.59 WITA",
        frozenset({_K.PRAKIRAAN}),
        sample="2026-03-10T06:00:00+00:00",
        description_id="Awal slot prakiraan (hanya untuk pesan, dalam WITA).",
    ),
    ValueDoc(
        "valid_until",
        ValueType.TIME,
        "End of the forecast slot (messages only, shown in WITA).",
        "23.59 WITA",
        frozenset({_K.PRAKIRAAN}),
        sample="2026-03-10T09:00:00+00:00",
        description_id="Akhir slot prakiraan (hanya untuk pesan, dalam WITA).",
    ),
    ValueDoc(
        "sea_level_m",
        ValueType.NUMBER,
        "Sea level in m above the observation's `datum`.",
        "-99,99",
        frozenset({_K.SEA_LEVEL}),
        sample=1.52,
        description_id="Tinggi muka laut (m) di atas `datum`.",
    ),
    ValueDoc(
        "datum",
        ValueType.TEXT,
        "What `sea_level_m` is measured from.",
        "msl-model",
        frozenset({_K.SEA_LEVEL}),
        sample="MSL",
        description_id="Acuan `sea_level_m`.",
    ),
    ValueDoc(
        "wave_height_m",
        ValueType.NUMBER,
        "Significant wave height in m; missing in tide-gauge readings.",
        "99,9",
        frozenset({_K.SEA_LEVEL}),
        sample=1.8,
        maybe_empty=frozenset({_K.SEA_LEVEL}),
        description_id="Tinggi gelombang signifikan (m); tidak ada di data stasiun pasut.",
    ),
    ValueDoc(
        "severity",
        ValueType.WORD,
        "CAP severity of a BMKG warning.",
        "Moderate",
        _CAP,
        ("Extreme", "Severe", "Moderate", "Minor", "Unknown"),
        sample="Severe",
        description_id="Tingkat keparahan (CAP severity) peringatan BMKG.",
    ),
    ValueDoc(
        "urgency",
        ValueType.WORD,
        "CAP urgency.",
        "Immediate",
        _CAP,
        ("Immediate", "Expected", "Future", "Past", "Unknown"),
        sample="Immediate",
        description_id="Urgensi CAP.",
    ),
    ValueDoc(
        "certainty",
        ValueType.WORD,
        "CAP certainty.",
        "Observed",
        _CAP,
        ("Observed", "Likely", "Possible", "Unlikely", "Unknown"),
        sample="Likely",
        description_id="Kepastian CAP.",
    ),
    ValueDoc(
        "msg_type",
        ValueType.WORD,
        "CAP message type.",
        "Update",
        _CAP,
        ("Alert", "Update", "Cancel"),
        sample="Alert",
        description_id="Jenis pesan CAP.",
    ),
    ValueDoc(
        "event",
        ValueType.TEXT,
        "BMKG's event name from the CAP, e.g. 'Hujan Lebat dan Petir'.",
        "Hujan Lebat disertai Petir dan Angin Kencang",
        _CAP,
        sample="Hujan Lebat disertai Petir",
        description_id="Nama kejadian dari CAP BMKG, mis. 'Hujan Lebat dan Petir'.",
    ),
    ValueDoc(
        "headline",
        ValueType.TEXT,
        "CAP headline.",
        "Hujan Lebat disertai Petir dan Angin Kencang di Kalimantan Timur",
        _CAP,
        sample="Hujan Lebat disertai Petir di Kalimantan Timur",
        description_id="Judul CAP.",
    ),
    ValueDoc(
        "expires",
        ValueType.TIME,
        "When BMKG's warning stops being valid (CAP expires), in WITA (a nowcast lasts hours).",
        "23.59 WITA",
        _CAP,
        sample="2026-03-10T05:30:00+00:00",
        description_id="Batas berlaku peringatan BMKG (CAP expires), dalam WITA.",
    ),
    ValueDoc(
        "category",
        ValueType.WORD,
        "What a verified residents' report is about.",
        "pohon-tumbang",
        frozenset({_K.REPORT}),
        tuple(c.value for c in ReportCategory),
        sample="banjir",
        description_id="Jenis laporan warga yang sudah diverifikasi operator.",
    ),
    ValueDoc(
        "count",
        ValueType.NUMBER,
        "1 for each verified report from a new reporter, 0 for a repeat by the same one: "
        "sum it over a window to count reporters, e.g. "
        '{value: count, agg: sum, over: 30m, ">=": 3}.',
        "99",
        frozenset({_K.REPORT}),
        sample=1,
        description_id="1 untuk tiap laporan terverifikasi dari pelapor baru, 0 untuk laporan "
        "ulang pelapor yang sama: jumlahkan (agg: sum) dalam rentang waktu untuk menghitung "
        "pelapor.",
    ),
)

#: Value documentation by name.
VALUE_INDEX: Mapping[str, ValueDoc] = MappingProxyType({v.name: v for v in VALUES})


@dataclass(frozen=True, slots=True)
class PlaceholderDoc:
    """A placeholder every template may use, whatever the kind."""

    name: str
    description: str
    widest: str
    description_id: str = ""


#: How several kelurahan read when they are neither the whole city nor whole kecamatan.
AREA_LIST_FORM = "{first}, {second} dan {rest} kelurahan lain"

COMMON_PLACEHOLDERS: tuple[PlaceholderDoc, ...] = (
    PlaceholderDoc(
        "level",
        "The level word: WASPADA, SIAGA or AWAS.",
        "WASPADA",
        "Kata level: WASPADA, SIAGA atau AWAS.",
    ),
    PlaceholderDoc(
        "area",
        "Where: 'seluruh Balikpapan' for all 34 kelurahan, a kecamatan's name for all of its "
        "kelurahan, else kelurahan names ('Manggar, Lamaru dan 3 kelurahan lain').",
        "",
        "Wilayah: 'seluruh Balikpapan' untuk ke-34 kelurahan, nama kecamatan bila seluruh "
        "kelurahannya, selain itu nama kelurahan ('Manggar, Lamaru dan 3 kelurahan lain').",
    ),
    PlaceholderDoc(
        "time_wita",
        "The event's own time in WITA: a quake's origin, a bulletin's or reading's time.",
        "31/12 23.59 WITA",
        "Waktu kejadian dalam WITA: waktu gempa, waktu buletin atau waktu pengukuran.",
    ),
    PlaceholderDoc(
        "end_reason",
        "Why the alert ended, in endings only (end_message): 'diakhiri BMKG (PD-4)', "
        "'12 jam tanpa PD-4 BMKG' (safety timeout), 'dicabut BMKG', 'masa berlaku habis'.",
        "12 jam tanpa PD-4 BMKG",
        "Sebab peringatan berakhir, hanya di end_message: 'diakhiri BMKG (PD-4)', "
        "'12 jam tanpa PD-4 BMKG' (batas waktu keamanan), 'dicabut BMKG', 'masa berlaku habis'.",
    ),
)

#: Placeholders of the kinds that carry an amount's period (`period_s`).
PERIOD_PLACEHOLDER = PlaceholderDoc(
    "period",
    "How long the amount took, in words: '3 jam', '24 jam', '3 hari' (rain and prakiraan). A "
    "windowed rule's amount is the window's sum it judged, so write "
    "'{precipitation_mm} mm dalam {period}' (reads '120 mm dalam 3 jam').",
    "24 jam",
    "Lama jumlah itu, dengan kata: '3 jam', '24 jam', '3 hari' (hujan dan prakiraan). Pada "
    "aturan berjendela, jumlahnya adalah jumlah jendela yang dinilai, jadi tulis "
    "'{precipitation_mm} mm dalam {period}' (terbaca '120 mm dalam 3 jam').",
)

#: The placeholder of the source whose figures an event's message gives.
SOURCE_PLACEHOLDER = PlaceholderDoc(
    "source",
    "Whose figures the message gives (earthquake and tsunami rules): 'BMKG', or 'USGS' for "
    "a quake BMKG has not reported yet (officials only).",
    "USGS",
    "Sumber angka dalam pesan (aturan gempa dan tsunami): 'BMKG', atau 'USGS' untuk gempa "
    "yang belum dilaporkan BMKG (hanya untuk pejabat).",
)

#: `{end_reason}` in each language: why an alert ended, as an ending message says it.
END_REASONS: Mapping[EndReason, Mapping[str, str]] = MappingProxyType(
    {
        EndReason.ENDED_BY_SOURCE: {"id": "diakhiri BMKG (PD-4)", "en": "ended by BMKG (PD-4)"},
        EndReason.CANCELLED_BY_SOURCE: {"id": "dicabut BMKG", "en": "withdrawn by BMKG"},
        EndReason.VALIDITY_OVER: {"id": "masa berlaku habis", "en": "its validity ended"},
        EndReason.SAFETY_TIMEOUT: {"id": "12 jam tanpa PD-4 BMKG", "en": "12 h without BMKG PD-4"},
        EndReason.EXPIRED: {"id": "waktunya habis", "en": "its time ran out"},
        EndReason.NO_LONGER_NAMED: {"id": "tak disebut BMKG lagi", "en": "no longer named"},
        EndReason.NO_LONGER_MET: {"id": "di bawah ambang", "en": "below the threshold"},
        EndReason.CLEARED: {"id": "kembali normal", "en": "back to normal"},
    }
)

#: The drill prefix every message may carry, per language (counted in the one-SMS check).
DRILL_PREFIX: Mapping[str, str] = MappingProxyType({"id": "LATIHAN: ", "en": "DRILL: "})

#: Characters of one GSM-7 SMS segment, and of one UCS-2 segment.
SMS_LIMIT = 160
UCS2_LIMIT = 70

#: The longest window a condition may fold (`over`): the daemon keeps this much history
#: at most (a 3-day antecedent-rain sum for landslides fits with room to spare).
MAX_WINDOW = timedelta(days=7)

DURATION_UNITS: Mapping[str, int] = MappingProxyType({"s": 1, "m": 60, "h": 3600, "d": 86400})


def values_for(kind: ObservationKind) -> tuple[str, ...]:
    """Value names a rule of `kind` may test or print, sorted."""
    names = set(KIND_VALUES[kind])
    if kind in POINT_KINDS:
        names.add("distance_km")
    return tuple(sorted(names))


def placeholders_for(kind: ObservationKind) -> tuple[str, ...]:
    """Placeholders a template of a rule of `kind` may use."""
    common = [p.name for p in COMMON_PLACEHOLDERS]
    values = values_for(kind)
    if "period_s" in values:
        common.append(PERIOD_PLACEHOLDER.name)
    if kind in (ObservationKind.EARTHQUAKE, ObservationKind.TSUNAMI_WARNING):
        common.append(SOURCE_PLACEHOLDER.name)
    return tuple(common + [v for v in values if v not in common])


#: Values that come with another in every report that has it (requiring one brings both).
BROUGHT: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "tsunami_potential": ("potensi",),
        "felt_mmi_balikpapan": ("felt",),
        # InaTEWS gives the neighbours' highest level and their names together.
        "nearby_level": ("nearby",),
    }
)


def guard_example(name: str) -> str:
    """A condition that makes `name` present, for the "can be empty" hint."""
    guard = next((k for k, brought in BROUGHT.items() if name in brought), name)
    doc = VALUE_INDEX[guard]
    if doc.type is ValueType.FLAG:
        return f"{{value: {guard}, in: [true, false]}}"
    if doc.type is ValueType.NUMBER:
        return f'{{value: {guard}, ">=": ...}}'
    return f'{{value: {guard}, "==": ...}}'


def maybe_empty(kind: ObservationKind) -> frozenset[str]:
    """Placeholders of `kind` that an observation may leave empty."""
    return frozenset(v.name for v in VALUES if kind in v.maybe_empty)


# ---------------------------------------------------------------------------
# The Markdown reference.

_EXAMPLE = """\
```yaml
- id: gempa-kuat-dekat
  name: Gempa kuat dekat Balikpapan
  description: M6+ shallower than 70 km within 100 km can damage buildings (BMKG).
  kind: earthquake
  when:
    all:
      - {value: tsunami_potential, in: [true, false]}
      - {value: magnitude, ">=": 6.0}
      - {value: depth_km, "<": 70}
      - {value: distance_km, "<=": 100}
  areas: all
  level: siaga
  actions: [sms, siren]
  recipients: [officials, rt-heads, siskamling, public]
  message:
    id: "{level} GEMPA M{magnitude} {time_wita}, {distance_km} km. BMKG: {potensi}. Jauhi bangunan."
    en: "{level} M{magnitude} QUAKE {time_wita}, {distance_km} km. BMKG: {potensi}. Go outside."
```
"""

_INTRO: Mapping[str, str] = MappingProxyType(
    {
        "en": """\
# Rule files reference

Generated from `warning/rules/schema.py` by `warning rules reference`; do not edit by hand.
(Bahasa Indonesia: `docs/aturan.md`, `warning rules reference --lang id`.)

A rule file (`rules/<hazard>.yaml`) is a list of rules; each rule starts with `- `.
`warning rules check` reports every mistake at once as `file:line:col: rule "<id>": message`
(in Bahasa Indonesia; `--lang en` for English); `--show` prints every message of every rule,
for every level and change (raise, update, end, expiry, drill), rendered on sample facts.

""",
        "id": """\
# Panduan berkas aturan

Dibuat dari `warning/rules/schema.py` oleh `warning rules reference --lang id`; jangan diubah
dengan tangan. (English: `docs/rules.md`.)

Berkas aturan (`rules/<bahaya>.yaml`) adalah daftar aturan; setiap aturan diawali `- `.
`warning rules check` melaporkan semua kesalahan sekaligus sebagai
`berkas:baris:kolom: aturan "<id>": pesan`; `--show` menampilkan setiap SMS dari setiap
aturan, untuk setiap level dan perubahan (naik, pembaruan, berakhir, kedaluwarsa, latihan),
diisi data contoh.

Kesalahan yang sering terjadi: angka desimal memakai titik (`40.5`, bukan `40,5`); teks yang
memuat `: ` atau diawali `{` harus diapit tanda kutip (`message: {id: "{level}: ..."}`);
indentasi memakai spasi, bukan tab.

""",
    }
)

_WORDS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en": MappingProxyType(
            {
                "type": "type",
                "required": "required",
                "optional": "optional",
                "default": "default",
                "keys": "Rule keys",
                "levels": "Levels, lowest first",
                "value": "value",
                "kinds": "kinds",
                "meaning": "meaning",
                "one_of": "One of",
                "may_be_empty": "May be empty for",
            }
        ),
        "id": MappingProxyType(
            {
                "type": "jenis",
                "required": "wajib",
                "optional": "tidak wajib",
                "default": "bawaan",
                "keys": "Kunci aturan",
                "levels": "Level, dari terendah",
                "value": "nilai",
                "kinds": "jenis pengamatan",
                "meaning": "arti",
                "one_of": "Salah satu dari",
                "may_be_empty": "Bisa kosong untuk",
            }
        ),
    }
)


def _key_section(key: Key, language: str) -> str:
    """One rule key as a Markdown section."""
    words = _WORDS[language]
    facts = [
        f"{words['type']}: {key.type.value}",
        words["required"] if key.required else words["optional"],
    ]
    if key.default:
        facts.append(f"{words['default']}: `{key.default}`")
    text = key.description_id if language == "id" else key.description
    return f"### `{key.name}`\n\n{text}\n\n*{'; '.join(facts)}*\n\n```yaml\n{key.example}\n```\n"


def _values_table(language: str) -> str:
    """Every value name with its kinds and type."""
    words = _WORDS[language]
    rows = [
        f"| {words['value']} | {words['kinds']} | {words['type']} | {words['meaning']} |",
        "|---|---|---|---|",
    ]
    for value in VALUES:
        kinds = ", ".join(sorted(k.value for k in value.kinds))
        choices = f" {words['one_of']}: {', '.join(value.choices)}." if value.choices else ""
        empty = ""
        if value.maybe_empty:
            which = ", ".join(sorted(k.value for k in value.maybe_empty))
            empty = f" {words['may_be_empty']} {which}."
        text = value.description_id if language == "id" else value.description
        rows.append(f"| `{value.name}` | {kinds} | {value.type.value} | {text}{choices}{empty} |")
    return "\n".join(rows) + "\n"


def _syntax_section(language: str) -> str:
    """Conditions, durations, selectors and placeholders."""
    aggs = ", ".join(f"`{a.value}`" for a in Aggregation)
    ops = ", ".join(f"`{c.value}`" for c in Comparison)
    common = "\n".join(
        f"- `{{{p.name}}}`: {p.description_id if language == 'id' else p.description}"
        for p in (*COMMON_PLACEHOLDERS, PERIOD_PLACEHOLDER, SOURCE_PLACEHOLDER)
    )
    points = ", ".join(sorted(k.value for k in POINT_KINDS))
    if language == "id":
        return f"""\
## Syarat

`{{value: NAMA, OP: angka}}`, satu operator per syarat: {ops}.
Angka dibandingkan dengan angka (desimal dengan titik), kata dengan kata di tabel bawah,
`in` memakai daftar. Berjendela: `{{value: precipitation_mm, over: 24h, agg: sum, ">=": 100}}`
menghimpun nilai per wilayah selama `over` dengan `agg`, salah satu dari {aggs} (`delta` =
terbaru dikurangi terlama: perubahan mendadak). `all:` dan `any:` berisi daftar syarat.

## Durasi

Bilangan bulat dan satuan: `90s`, `10m`, `2h`, `1d`; boleh digabung: `1h30m`.

## Pemilih wilayah

`all` (semua kelurahan), `coastal` (pesisir), `kecamatan:<id>`, id kelurahan atau kecamatan,
atau nama di peta (`Gunung Sari Ulu`), atau daftarnya.

## Isian pesan

Setiap pesan boleh memakai:

{common}

serta nilai jenis pengamatannya dalam kurung kurawal (`{{magnitude}}`, ...), dan
`{{distance_km}}` untuk jenis bertitik ({points}). Angka ditulis dengan koma desimal (5,6),
waktu dalam WITA. Isian yang bisa kosong (lihat tabel) hanya boleh dipakai bila `when`
mensyaratkannya. Tanpa format atau ekspresi; tulis `{{{{` untuk kurung kurawal.
Pesan ditulis utuh oleh petugas: tidak ada teks yang ditambahkan, kecuali awalan `LATIHAN: `
saat latihan.

## Nilai per jenis

{_values_table(language)}"""
    return f"""\
## Conditions

`{{value: NAME, OP: operand}}`, one operator per condition: {ops}.
Numbers compare with numbers (decimal point, not comma), words with the words listed below,
`in` takes a list.
Windowed: `{{value: precipitation_mm, over: 24h, agg: sum, ">=": 100}}` folds the values seen
per area during `over` with `agg`, one of {aggs} (`delta` is newest minus oldest: a sudden
change). `all:` and `any:` hold lists of conditions and nest; a plain list under `when` means
`all`.

## Durations

A whole number and a unit: `90s`, `10m`, `2h`, `1d`; units may be chained: `1h30m`.

## Area selectors

`all` (every kelurahan), `coastal`, `kecamatan:<id>`, a kelurahan or kecamatan id
(a kecamatan stands for its kelurahan), a name as on the map (`Gunung Sari Ulu`, any case),
or a list of these.

## Placeholders

Every template may use:

{common}

and the values of its kind in braces (`{{magnitude}}`, `{{precipitation_mm}}`, ...),
plus `{{distance_km}}` for point kinds ({points}). Numbers print with the Indonesian decimal
comma in `id` (5,6), times in WITA. A value that may be empty for the kind (see the table) may
be printed only when the rule's `when` requires it. No format specifications or expressions.
Write `{{{{` for a literal brace. Nothing is added to a message but the `LATIHAN: ` prefix
of a drill.

## Values per kind

{_values_table(language)}"""


def render_reference(language: str = "en") -> str:
    """The Markdown reference of the rule format (`en` or `id`), generated from this schema."""
    words = _WORDS[language]
    keys = "\n".join(_key_section(k, language) for k in RULE_KEYS)
    levels = ", ".join(level.value for level in Level)
    return (
        f"{_INTRO[language]}{_EXAMPLE}\n## {words['keys']}\n\n{words['levels']}: {levels}.\n\n"
        f"{keys}\n{_syntax_section(language)}"
    )
