"""A resident's photo, checked and re-encoded before it is kept (Pillow).

Only real JPEG, PNG and WebP images are taken: the bytes are verified by
Pillow, the pixel count is checked from the header before anything is decoded
(a decompression bomb is refused, not unpacked), and the image is re-encoded
as a fresh JPEG from its pixels alone, so EXIF (GPS position, phone model),
XMP, ICC and comments are gone.  The kept photo is at most 1600 px a side:
enough to see water on a road, small enough for operators on a slow link.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from warning.reports import RefusedError
from warning.reports.words import Refusal
from warning.store.reports import Photo

#: What residents' phones send; anything else (GIF, SVG, TIFF, HEIC) is refused.
FORMATS = ("JPEG", "PNG", "WEBP")
#: The longest side of a kept photo, in pixels.
MAX_SIDE = 1600
JPEG_QUALITY = 80


def clean_photo(data: bytes, max_bytes: int, max_pixels: int) -> Photo:
    """The photo re-encoded as a metadata-free JPEG, or RefusedError saying why."""
    if len(data) > max_bytes:
        size = f"{len(data) / 1_000_000:.1f}".replace(".", ",")
        raise RefusedError(Refusal.PHOTO_SIZE, size=size, limit=max_bytes // 1_000_000)
    _check(data, max_pixels)
    return Photo("image/jpeg", _reencode(data))


def _check(data: bytes, max_pixels: int) -> None:
    """A real image of an accepted format and size, judged from its header and structure."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it: that is a bomb too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                width, height = image.size
                image.verify()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise RefusedError(Refusal.PHOTO_PIXELS) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise RefusedError(Refusal.PHOTO_TYPE) from None
    if width * height > max_pixels:
        raise RefusedError(Refusal.PHOTO_PIXELS)


def _reencode(data: bytes) -> bytes:
    """Decode (bombs refused however Pillow sees them) and write a plain JPEG."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                upright = ImageOps.exif_transpose(image)
                upright.thumbnail((MAX_SIDE, MAX_SIDE))
                pixels = upright.convert("RGB")
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise RefusedError(Refusal.PHOTO_PIXELS) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise RefusedError(Refusal.PHOTO_TYPE) from None
    out = io.BytesIO()
    # No exif=, icc_profile= or comment: the new file carries pixels only.
    pixels.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()
