"""`warning rules check` in Bahasa Indonesia: the officials who edit rules read it first.

Problems are written once, in English, where they are found (loader, parsers,
templates).  This catalog gives each its Indonesian wording: an ordered list of
patterns over the English text, each rewriting one phrase, so composed
messages (a problem plus a "did you mean" hint) translate piece by piece.  A
phrase the catalog does not know stays English rather than being lost; the
tests hold every shipped bad-rule fixture to a fully Indonesian message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from warning.model import Problem, Severity

#: (English pattern, Indonesian replacement), applied in order; groups carry names and values.
_CATALOG: tuple[tuple[str, str], ...] = (
    (r'^rule "([^"]+)": ', r'aturan "\1": '),
    (r"^rule #(\d+): ", r"aturan #\1: "),
    # YAML syntax
    (
        r"not valid YAML: mapping values are not allowed here: a text with ': ' or starting "
        r"with '\{' must be in quotes, e\.g\. ",
        "YAML tidak sah (mapping values are not allowed here): teks yang memuat ': ' atau "
        "diawali '{' harus diapit tanda kutip, mis. ",
    ),
    (
        r"not valid YAML: (.*found character '\\t'.*): a tab is not allowed here; indent with "
        r"spaces",
        r"YAML tidak sah (\1): tab tidak boleh dipakai; buat indentasi dengan spasi",
    ),
    (r"not valid YAML: (.*): keep one of them", r"YAML tidak sah (\1): simpan salah satunya"),
    (
        r"not valid YAML: (.*) \(check indentation, quotes and the ': ' after keys\)",
        r"YAML tidak sah (\1): periksa indentasi, tanda kutip dan ': ' sesudah kunci",
    ),
    (r"cannot read the file: ", "berkas tidak bisa dibaca: "),
    (r"the file holds no rules", "berkas tidak berisi aturan"),
    (
        r'a rule file is a list of rules, got (.*): start each rule with "- "',
        r'berkas aturan adalah daftar aturan, tertulis \1: awali setiap aturan dengan "- "',
    ),
    (
        r"^rule #(\d+) must be a mapping of keys \(id: \.\.\., name: \.\.\.\)",
        r"aturan #\1 harus berupa kumpulan kunci (id: ..., name: ...)",
    ),
    (
        r"no description: say why this threshold and its source \(description: \.\.\.\)",
        "tanpa description: jelaskan alasan ambang ini dan sumbernya (description: ...)",
    ),
    (
        r'missing required key "([^"]+)" \(e\.g\. (.*)\) or a message in every levels step',
        r'kunci wajib "\1" belum ada (mis. \2) atau pesan di setiap langkah levels',
    ),
    (r'missing required key "([^"]+)" \(e\.g\. (.*)\)', r'kunci wajib "\1" belum ada (mis. \2)'),
    (r'\) or "levels"$', ') atau "levels"'),
    (
        r'write either "level" or "levels", not both',
        'tulis "level" atau "levels", bukan keduanya',
    ),
    (
        r"siren at level (\w+): a siren means act now, so it needs siaga or awas; raise the "
        r"level, remove siren, or add allow_siren_below_siaga: true",
        r"sirene pada level \1: sirene berarti bertindak sekarang, jadi perlu siaga atau awas; "
        r"naikkan level, hapus siren, atau tambahkan allow_siren_below_siaga: true",
    ),
    (
        r"a tsunami warning ends only with its PD-4 bulletin \(clear_when\) or the 12 h safety "
        r"timeout: remove expire_after",
        "peringatan tsunami hanya berakhir dengan buletin PD-4 (clear_when) atau batas waktu "
        "pengaman 12 jam: hapus expire_after",
    ),
    (
        r'missing "end_message": say what ended, without repeating the instruction \(e\.g\. ',
        'belum ada "end_message": sebutkan apa yang berakhir, tanpa mengulang instruksi (mis. ',
    ),
    (
        r"id already used at (\S+); give each rule its own id",
        r"id sudah dipakai di \1; beri "
        r"setiap aturan id sendiri",
    ),
    # values and words
    (
        r"(.*) is not a duration: write a whole number and a unit s, m, h or d, e\.g\. "
        r"90s, 10m, 2h, 1d",
        r"\1 bukan durasi: tulis bilangan bulat dan satuan s, m, h atau d, mis. 90s, 10m, 2h, 1d",
    ),
    (r' \(write "([^"]+)" for seconds\)', r' (tulis "\1" untuk detik)'),
    (r"(\w+) must be longer than 0s", r"\1 harus lebih dari 0s"),
    (
        r"expected text, got (.*); put words in quotes if unsure",
        r"seharusnya teks, tertulis \1; apit kata dengan tanda kutip bila ragu",
    ),
    (
        r"id (.*) must be lower-case letters, digits and dashes, e\.g\. ",
        r"id \1 harus huruf kecil, angka dan tanda hubung, mis. ",
    ),
    (r"expected true or false, got ", "seharusnya true atau false, tertulis "),
    (r"expected a (.+) word, got ", r"seharusnya kata \1, tertulis "),
    (r"list at least one ", "tulis sedikitnya satu "),
    (
        r'source "([^"]+)" must be a feed name such as bmkg, inatews or usgs',
        r'sumber "\1" harus nama feed, mis. bmkg, inatews atau usgs',
    ),
    (r'unknown recipient group "', 'kelompok penerima tidak dikenal "'),
    (
        r'recipient group "([^"]+)" must be lower-case with dashes',
        r'kelompok penerima "\1" harus huruf kecil dengan tanda hubung',
    ),
    (
        r'area "([^"]+)" is not an area id or selector \(all, coastal, kecamatan:<id>, a '
        r"kelurahan or kecamatan id\); ids are written like ",
        r'wilayah "\1" bukan id wilayah atau pemilih (all, coastal, kecamatan:<id>, id '
        r"kelurahan atau kecamatan); id ditulis seperti ",
    ),
    (
        r'"([^"]+)" is a kelurahan: write "([^"]+)" without "kecamatan:"',
        r'"\1" adalah kelurahan: tulis "\2" tanpa "kecamatan:"',
    ),
    (r'unknown area "([^"]+)"', r'wilayah "\1" tidak dikenal'),
    (r"; see `warning areas` for ids", "; lihat id di `warning areas`"),
    (r"a levels step must be a mapping like ", "langkah levels harus berupa kumpulan seperti "),
    (r", not (a list|a mapping|nothing|\"[^\"]*\"|\S+)$", r", bukan \1"),
    (
        r'a levels step needs "level: waspada\|siaga\|awas"',
        'langkah levels perlu "level: waspada|siaga|awas"',
    ),
    (r'unknown key "([^"]+)" in a levels step', r'kunci "\1" tidak dikenal di langkah levels'),
    (r'unknown key "([^"]+)" in a condition', r'kunci "\1" tidak dikenal di syarat'),
    (r'unknown key "([^"]+)" in a rule', r'kunci "\1" tidak dikenal di aturan'),
    (
        r'unknown key "([^"]+)" in message \(languages\)',
        r'kunci "\1" tidak dikenal di message (bahasa)',
    ),
    (r'unknown key "([^"]+)" in ', r'kunci "\1" tidak dikenal di '),
    (r'unknown (kind|level|action|agg) "', r'\1 tidak dikenal "'),
    # conditions
    (
        r"conditions nested too deeply or too many; simplify this rule",
        "syarat terlalu dalam atau terlalu banyak; sederhanakan aturan ini",
    ),
    (
        r"expected a condition such as (.*), or all:/any: with a list, got ",
        r"seharusnya syarat seperti \1, atau all:/any: berisi daftar, tertulis ",
    ),
    (
        r'"(\w+)" must be the only key of its mapping \(also found (.*)\); put the other '
        r"conditions inside its list",
        r'"\1" harus satu-satunya kunci (ada juga \2); masukkan syarat lain ke dalam daftarnya',
    ),
    (
        r'"(\w+)" takes a list of conditions \("- " each\)',
        r'"\1" berisi daftar syarat (masing-masing diawali "- ")',
    ),
    (
        r"empty list of conditions: add at least one condition",
        "daftar syarat kosong: tambahkan sedikitnya satu syarat",
    ),
    (
        r'"([^"]+)" is read as two keys: numbers take a decimal point, write ',
        r'"\1" terbaca sebagai dua kunci: angka desimal memakai titik, bukan koma; tulis ',
    ),
    (r'a condition needs "value: <name>", e\.g\. ', 'syarat perlu "value: <nama>", mis. '),
    (
        r'value "([^"]+)" is not carried by (\w+) observations',
        r'nilai "\1" tidak ada pada pengamatan \2',
    ),
    (r"a condition needs one operator: (.*), e\.g\. ", r"syarat perlu satu operator: \1, mis. "),
    (
        r'one operator per condition: move "([^"]+)" into a second condition under all:',
        r'satu operator per syarat: pindahkan "\1" ke syarat kedua di bawah all:',
    ),
    (
        r"a prakiraan \(forecast\) rule cannot use (.*): forecasts never sound sirens or reach "
        r"the public; use actions: \[sms\] with recipients: \[officials\]",
        r"aturan prakiraan tidak boleh memakai \1: prakiraan tidak pernah membunyikan sirene "
        r"atau sampai ke warga; pakai actions: [sms] dengan recipients: [officials]",
    ),
    (
        r"a prakiraan \(forecast\) rule needs recipients: without them every group, residents "
        r"too, would get it; add recipients: \[officials\]",
        "aturan prakiraan perlu recipients: tanpa itu semua kelompok, warga juga, akan "
        "menerimanya; tambahkan recipients: [officials]",
    ),
    (
        r"a prakiraan \(forecast\) rule cannot address (.*): forecasts go to officials only; "
        r"use recipients: \[officials\]",
        r"aturan prakiraan tidak boleh ditujukan ke \1: prakiraan hanya untuk petugas; "
        r"pakai recipients: [officials]",
    ),
    (
        r"over: (\S+) is longer than the (\d+) days of history kept; use at most over: (\S+)",
        r"over: \1 lebih panjang dari \2 hari riwayat yang disimpan; pakai paling lama over: \3",
    ),
    (
        r'no condition: without "when" the rule fires on every observation of its kind; add one',
        'tanpa syarat: tanpa "when" aturan menyala pada setiap pengamatan jenisnya; tambahkan',
    ),
    (
        r"the file has ([\d,]+) bytes, more than the ([\d,]+) a rule file may have: split it "
        r"into one file per hazard \(rules/<hazard>\.yaml\)",
        r"berkas berukuran \1 byte, lebih dari \2 yang boleh untuk berkas aturan: pecah menjadi "
        r"satu berkas per bahaya (rules/<bahaya>.yaml)",
    ),
    (
        r"a windowed condition needs both over and agg: add ",
        "syarat berjendela perlu over dan agg: tambahkan ",
    ),
    (
        r'"(\w+)" cannot be aggregated: remove over and agg',
        r'"\1" tidak bisa diagregasi: hapus over dan agg',
    ),
    (
        r'"(\w+)" is for messages only and cannot be compared',
        r'"\1" hanya untuk pesan dan tidak bisa dibandingkan',
    ),
    (
        r'"(\w+)" is a (\w+): compare it with == or in',
        r'"\1" adalah \2: bandingkan dengan == atau in',
    ),
    (
        r"a windowed value is a number: compare it with >=, >, <=, < or ==",
        "nilai berjendela adalah angka: bandingkan dengan >=, >, <=, < atau ==",
    ),
    (r'"in" takes a non-empty list, e\.g\. ', '"in" perlu daftar yang tidak kosong, mis. '),
    (
        r'"(\w+)" is an? (\w+); (.*) cannot be compared with it \(e\.g\. ',
        r'"\1" adalah \2; \3 tidak bisa dibandingkan dengannya (mis. ',
    ),
    (r'"([^"]+)" is not a (\w+)', r'"\1" bukan \2'),
    (
        r"levels takes a list of \{level, when\} steps, lowest first",
        "levels berisi daftar langkah {level, when}, dari yang terendah",
    ),
    (
        r"levels must rise from lowest to highest: (\w+) after (\w+); order them ",
        r"levels harus naik dari terendah ke tertinggi: \1 sesudah \2; urutkan ",
    ),
    # messages
    (
        r'message "(\w+)": unbalanced "\{" or "\}"; write \{\{ for a brace',
        r'message "\1": "{" atau "}" tidak berpasangan; tulis {{ untuk kurung kurawal',
    ),
    (r'message "(\w+)": unknown placeholder ', r'message "\1": isian tidak dikenal '),
    (
        r'message "(\w+)": write "([^"]+)" without ":" or "!": the renderer formats values itself',
        r'message "\1": tulis "\2" tanpa ":" atau "!": angka diformat otomatis',
    ),
    (
        r'"\{(\w+)\}" can be empty for (\w+) \(not every report has it\): remove it, or require '
        r'it in "when" ',
        r'"{\1}" bisa kosong untuk \2 (tidak setiap laporan memuatnya): hapus, atau jadikan '
        r'syarat di "when" ',
    ),
    (r' renders "\?" for a missing fact: ', ' menghasilkan "?" karena data tidak ada: '),
    (
        r"is not a GSM-7 character: the SMS would be UCS-2 \((\d+) characters\); write plain "
        r"letters",
        r"bukan karakter GSM-7: SMS menjadi UCS-2 (\1 karakter); pakai huruf biasa",
    ),
    (
        r" at (\w+) can reach (\d+) characters with the drill prefix and the longest area and "
        r"values, more than one SMS \((\d+)\); shorten it by (\d+): ",
        r" pada \1 bisa mencapai \2 karakter dengan awalan latihan serta wilayah dan angka "
        r"terpanjang, lebih dari satu SMS (\3); pendekkan \4 karakter: ",
    ),
    (
        r'message takes templates per language: id: "\.\.\.", en: "\.\.\."',
        'message berisi teks per bahasa: id: "...", en: "..."',
    ),
    (
        r'message needs an "id" template \(Bahasa Indonesia\)',
        'message perlu teks "id" (Bahasa Indonesia)',
    ),
    # hints
    (r' \(did you mean "([^"]+)"\?\)', r' (maksudnya "\1"?)'),
    (r" \(valid: ", " (pilihan: "),
    (r"\be\.g\. ", "mis. "),
)

_COMPILED = tuple((re.compile(pattern), replacement) for pattern, replacement in _CATALOG)

#: Words of the problem line around the message, per language.
WARNING_WORD = {"id": "peringatan", "en": "warning"}


def translate(message: str) -> str:
    """The Indonesian wording of one problem message (unknown phrases stay as written)."""
    for pattern, replacement in _COMPILED:
        message = pattern.sub(replacement, message)
    return message


def localise(problems: Sequence[Problem], language: str) -> list[str]:
    """Problems as printed lines in `language` (`id` or `en`)."""
    if language != "id":
        return [str(p) for p in problems]
    lines = []
    for problem in problems:
        text = str(replace(problem, message=translate(problem.message), severity=Severity.ERROR))
        if problem.severity is Severity.WARNING:
            where, _sep, rest = text.partition(": ") if problem.path else ("", "", text)
            text = f"{where}: {WARNING_WORD['id']}: {rest}" if where else f"peringatan: {rest}"
        lines.append(text)
    return lines


#: The summary lines of `warning rules check`, per language.
SUMMARY = {
    "id": {
        "errors": "{errors} kesalahan, {warnings} peringatan",
        "ok": "ok: {rules} aturan dalam {files} berkas ({warnings} peringatan)",
    },
    "en": {
        "errors": "{errors} error(s), {warnings} warning(s)",
        "ok": "ok: {rules} rule(s) in {files} file(s) ({warnings} warning(s))",
    },
}
