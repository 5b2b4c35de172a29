"""Build `areas.geojson` from the shared Balikpapan boundary files.

Usage: python scripts/build_areas.py ../shared/data areas.geojson

Keeps the geometry byte-for-byte (the shared files are already repaired and
snapped, see data/SOURCES.md) and reduces the properties to the six the daemon
reads: id, name, level, kecamatan_id (kelurahan only), kemendagri_code, coastal.
Kecamatan come first, then kelurahan, each in Kemendagri code order.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _feature(feature: dict[str, Any], level: str) -> dict[str, Any]:
    """One output feature with the daemon's six properties."""
    src = feature["properties"]
    props: dict[str, Any] = {"id": src["id"], "name": src["name"], "level": level}
    if level == "kelurahan":
        props["kecamatan_id"] = src["kecamatan_id"]
    props["kemendagri_code"] = src["kemendagri_code"]
    props["coastal"] = bool(src["coastal"])
    return {"type": "Feature", "properties": props, "geometry": feature["geometry"]}


def build(shared: Path) -> dict[str, Any]:
    """The combined FeatureCollection."""
    features = []
    for name, level in (("kecamatan", "kecamatan"), ("kelurahan", "kelurahan")):
        source = json.loads((shared / f"balikpapan-{name}.geojson").read_text(encoding="utf-8"))
        rows = sorted(source["features"], key=lambda f: f["properties"]["kemendagri_code"])
        features += [_feature(f, level) for f in rows]
    return {
        "type": "FeatureCollection",
        "name": "kota-balikpapan-areas",
        "features": features,
    }


def main() -> None:
    """Write the file named on the command line."""
    shared, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.write_text(
        json.dumps(build(shared), ensure_ascii=False, separators=(",", ":")) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
