"""The console's words: Bahasa Indonesia first, English on request (cookie `lang`)."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("id", "en")
DEFAULT = "id"

#: key -> (Bahasa Indonesia, English). Pages and their scripts read the same table.
WORDS: Mapping[str, tuple[str, str]] = {
    "title": ("Ruang Operasi Pusdalops BPBD Balikpapan", "BPBD Balikpapan operations room"),
    "public_title": ("Peta Status Peringatan Balikpapan", "Balikpapan warning map"),
    "public_intro": (
        "Tingkat peringatan saat ini per kelurahan. Ikuti arahan petugas dan BMKG.",
        "Current warning level per kelurahan. Follow officials' and BMKG's instructions.",
    ),
    "login": ("Masuk", "Log in"),
    "logout": ("Keluar", "Log out"),
    "username": ("Nama pengguna", "User name"),
    "password": ("Kata sandi", "Password"),
    "language": ("English", "Bahasa Indonesia"),
    "drill_banner": (
        "LATIHAN — latihan sedang berjalan, bukan keadaan darurat sungguhan",
        "LATIHAN (DRILL) — a drill is running, not a real emergency",
    ),
    "map": ("Peta", "Map"),
    "feeds": ("Sumber data", "Feeds"),
    "alerts": ("Peringatan aktif", "Active alerts"),
    "no_alerts": ("Tidak ada peringatan aktif", "No active alerts"),
    "outbox": ("Antrean kirim (menunggu/gagal)", "Outbox (waiting/failed)"),
    "audit": ("Log audit", "Audit log"),
    "sirens": ("Sirene", "Sirens"),
    "daemon": ("Daemon", "Daemon"),
    "heartbeat": ("detak", "heartbeat"),
    "unreachable": ("tidak menjawab", "unreachable"),
    "last_drill": ("Latihan terakhir", "Last drill"),
    "last_siren_test": ("Uji sirene terakhir", "Last siren test"),
    "never": ("belum pernah", "never"),
    "rule": ("Aturan", "Rule"),
    "level": ("Tingkat", "Level"),
    "kelurahan": ("Kelurahan", "Kelurahan"),
    "source": ("Sumber", "Source"),
    "started": ("Mulai", "Started"),
    "reached": ("Terjangkau", "Reached"),
    "people": ("orang", "people"),
    "progress": ("Pengiriman", "Delivery"),
    "history": ("Riwayat", "History"),
    "sent": ("terkirim", "sent"),
    "waiting": ("menunggu", "waiting"),
    "failed": ("gagal", "failed"),
    "cancel": ("Batalkan", "Cancel"),
    "cancel_alert": ("Batalkan peringatan", "Cancel alert"),
    "reason": ("Alasan", "Reason"),
    "reason_required": ("Alasan wajib diisi", "A reason is required"),
    "manual": ("Peringatan manual", "Manual alert"),
    "areas": ("Wilayah", "Areas"),
    "areas_hint": (
        "klik kelurahan di peta, atau pilih di sini",
        "click kelurahan on the map, or pick here",
    ),
    "message": ("Pesan SMS", "SMS message"),
    "segments": ("segmen GSM-7", "GSM-7 segments"),
    "chars": ("karakter", "characters"),
    "with_sirens": ("Bunyikan sirene", "Sound sirens"),
    "send": ("Kirim", "Send"),
    "two_person": (
        "SIAGA ke atas atau sirene perlu persetujuan operator kedua.",
        "SIAGA and above, or sirens, need a second operator's approval.",
    ),
    "approvals": ("Menunggu persetujuan", "Awaiting approval"),
    "approve": ("Setujui", "Approve"),
    "reject": ("Tolak", "Reject"),
    "siren_stop": ("Hentikan sirene", "Stop sirens"),
    "all_sirens": ("semua sirene", "all sirens"),
    "silence": ("Senyapkan aturan", "Silence a rule"),
    "silences": ("Aturan disenyapkan", "Silenced rules"),
    "until": ("Sampai (WITA)", "Until (WITA)"),
    "end": ("Akhiri", "End"),
    "drill": ("Latihan", "Drill"),
    "start_drill": ("Mulai latihan", "Start drill"),
    "scenario": ("Skenario", "Scenario"),
    "speed": ("Kecepatan", "Speed"),
    "drill_report": ("Laporan latihan", "Drill report"),
    "no_report": ("Belum ada laporan latihan", "No drill report yet"),
    "back": ("Kembali", "Back"),
    "live": ("langsung", "live"),
    "offline": ("terputus, mencoba lagi", "disconnected, retrying"),
    "age": ("umur", "age"),
    "none": ("aman", "none"),
    "waspada": ("WASPADA", "WASPADA"),
    "siaga": ("SIAGA", "SIAGA"),
    "awas": ("AWAS", "AWAS"),
    "bmkg": ("BMKG (relai)", "BMKG (relay)"),
    "city": ("aturan kota", "city rule"),
    "manual_source": ("manual", "manual"),
    "nowcast": ("Peringatan dini cuaca BMKG", "BMKG nowcast"),
    "quake": ("Gempa", "Earthquake"),
    "legend_drill": ("latihan (arsir)", "drill (hatched)"),
    "viewer_note": ("Anda masuk sebagai pengamat.", "You are logged in as a viewer."),
    "cap_feed": ("Umpan CAP", "CAP feed"),
}


def language(value: str | None) -> str:
    """A supported language code (Bahasa Indonesia unless English was chosen)."""
    return value if value in LANGUAGES else DEFAULT


def words(lang: str) -> dict[str, str]:
    """Every word in `lang`."""
    index = LANGUAGES.index(language(lang))
    return {key: pair[index] for key, pair in WORDS.items()}
