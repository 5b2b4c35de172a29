"""What a reporter reads when a report is refused: Bahasa Indonesia first, English too.

Each answer says what to change, so a resident on a cheap phone can fix the
report and send it again; none repeats what was sent (it may be the problem).
"""

from __future__ import annotations

import enum


class Refusal(enum.Enum):
    """Why a report was refused: (Bahasa Indonesia, English), with `{placeholders}`."""

    CATEGORY = (
        "Jenis laporan tidak dikenal. Pilih salah satu: {choices}.",
        "Unknown report category. Choose one of: {choices}.",
    )
    NO_LOCATION = (
        "Lokasi belum ada. Izinkan GPS atau pilih kelurahan.",
        "No location. Allow GPS or choose a kelurahan.",
    )
    OUTSIDE = (
        "Lokasi di luar Kota Balikpapan. Laporan ini hanya untuk wilayah Balikpapan; "
        "untuk daerah lain hubungi 112.",
        "The location is outside Balikpapan. This service covers Balikpapan only; "
        "elsewhere call 112.",
    )
    BAD_COORDINATES = (
        "Koordinat tidak sah. Kirim lintang dan bujur sebagai angka, atau pilih kelurahan.",
        "Invalid coordinates. Send latitude and longitude as numbers, or choose a kelurahan.",
    )
    KELURAHAN = (
        "Kelurahan tidak dikenal. Pilih kelurahan dari daftar.",
        "Unknown kelurahan. Choose one from the list.",
    )
    EMPTY = (
        "Laporan kosong. Tulis singkat apa yang terjadi atau lampirkan foto.",
        "The report is empty. Say briefly what happened or attach a photo.",
    )
    TOO_LONG = (
        "Keterangan terlalu panjang ({length} huruf). Paling banyak {limit} huruf.",
        "The description is too long ({length} characters). At most {limit}.",
    )
    MARKUP = (
        "Keterangan tidak boleh berisi kode, tag HTML atau skrip (tanda < >). Tulis dengan "
        "kata-kata biasa.",
        "The description may not contain code, HTML tags or scripts (< >). Use plain words.",
    )
    CONTROL = (
        "Keterangan berisi karakter yang tidak sah. Tulis dengan huruf dan angka biasa.",
        "The description contains invalid characters. Use ordinary letters and digits.",
    )
    PHONE = (
        "Nomor HP tidak sah. Tulis seperti 0812xxxxxxx atau +62812xxxxxxx (angka saja), "
        "atau kosongkan.",
        "Invalid phone number. Write it like 0812xxxxxxx or +62812xxxxxxx (digits only), "
        "or leave it empty.",
    )
    PHOTO_TYPE = (
        "Foto tidak terbaca. Kirim foto JPEG, PNG atau WebP.",
        "The photo cannot be read. Send a JPEG, PNG or WebP photo.",
    )
    PHOTO_SIZE = (
        "Foto terlalu besar ({size} MB). Paling besar {limit} MB.",
        "The photo is too large ({size} MB). At most {limit} MB.",
    )
    PHOTO_PIXELS = (
        "Ukuran gambar terlalu besar. Kirim foto biasa dari kamera HP.",
        "The image is too large. Send an ordinary phone camera photo.",
    )
    BAD_REQUEST = (
        "Laporan tidak terbaca. Isi formulir di /lapor.",
        "The report cannot be read. Use the form at /lapor.",
    )
    DEVICE_LIMIT = (
        "Terlalu banyak laporan dari perangkat ini. Coba lagi nanti; bila darurat hubungi 112.",
        "Too many reports from this device. Try again later; in an emergency call 112.",
    )
    ADDRESS_LIMIT = (
        "Terlalu banyak laporan dari jaringan ini. Coba lagi nanti; bila darurat hubungi 112.",
        "Too many reports from this network. Try again later; in an emergency call 112.",
    )
    BURST = (
        "Banyak laporan dari {place} sudah diterima dan petugas sedang menanganinya. "
        "Bila darurat hubungi 112.",
        "Many reports from {place} have been received and officers are on it. "
        "In an emergency call 112.",
    )

    def text(self, language: str) -> str:
        """The answer in `language` (`id` or `en`; anything else reads Bahasa Indonesia)."""
        indonesian, english = self.value
        return english if language == "en" else indonesian


class Prompt(enum.Enum):
    """What the Telegram bot says in a report conversation: (Bahasa Indonesia, English)."""

    CATEGORY = (
        "Laporan darurat ke BPBD Kota Balikpapan. Apa yang terjadi? Pilih satu. "
        "(Dalam bahaya langsung: telepon 112.)",
        "Emergency report to BPBD Balikpapan. What is happening? Choose one. "
        "(In immediate danger: call 112.)",
    )
    LOCATION = (
        "Di mana? Tekan tombol 'Kirim lokasi saya', atau ketik nama kelurahan.",
        "Where? Press 'Send my location', or type the kelurahan's name.",
    )
    SHARE_LOCATION = ("Kirim lokasi saya", "Send my location")
    UNKNOWN_PLACE = (
        "Kelurahan tidak dikenal. Ketik nama kelurahan di Balikpapan (mis. Manggar) "
        "atau kirim lokasi.",
        "Unknown kelurahan. Type a Balikpapan kelurahan (e.g. Manggar) or send your location.",
    )
    PHOTO = (
        "Kirim foto kejadian, atau tekan 'Lewati'.",
        "Send a photo of it, or press 'Skip'.",
    )
    SKIP = ("Lewati", "Skip")
    DESCRIPTION = (
        "Tulis singkat apa yang terjadi (paling banyak 500 huruf).",
        "Say briefly what is happening (at most 500 characters).",
    )
    RECEIVED = (
        "Laporan diterima. Kode: {code}. Petugas akan memeriksanya. Status: {link}",
        "Report received. Code: {code}. Officers will check it. Status: {link}",
    )
    REFUSED = (
        "Laporan belum bisa diterima: {reason} Kirim /lapor untuk mulai lagi.",
        "The report could not be accepted: {reason} Send /lapor to start again.",
    )
    CANCELLED = (
        "Laporan dibatalkan. Kirim /lapor untuk mulai lagi.",
        "Report cancelled. Send /lapor to start again.",
    )
    STATUS = ("Laporan {code}: {status}.", "Report {code}: {status}.")
    NO_SUCH_CODE = ("Kode laporan tidak dikenal.", "Unknown report code.")
    BUSY = (
        "Layanan sedang sibuk. Coba lagi sebentar; bila darurat hubungi 112.",
        "The service is busy. Try again shortly; in an emergency call 112.",
    )

    def text(self, language: str) -> str:
        """The prompt in `language` (`en`, else Bahasa Indonesia)."""
        indonesian, english = self.value
        return english if language == "en" else indonesian


#: Category names as people read them on buttons: (Bahasa Indonesia, English).
CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "banjir": ("Banjir", "Flood"),
    "longsor": ("Tanah longsor", "Landslide"),
    "kebakaran": ("Kebakaran", "Fire"),
    "pohon-tumbang": ("Pohon tumbang", "Fallen tree"),
    "gempa-terasa": ("Gempa terasa", "Earthquake felt"),
    "air-laut": ("Air laut surut/naik tiba-tiba", "Sea suddenly receding/rising"),
    "mencurigakan": ("Kejadian mencurigakan", "Suspicious event"),
    "lainnya": ("Lainnya", "Other"),
}
