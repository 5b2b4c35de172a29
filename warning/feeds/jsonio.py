"""Observations as JSON objects: the format of `warning feeds parse` and of rule-test scenarios.

Exactly the keys `source, kind, event_id, time, lon, lat, area_ids, values,
exercise, coverage, basis`; `time` is ISO 8601 UTC ending in `Z`; `lon`/`lat`
are null for area and polygon observations.  `coverage` (point, polygon, areas,
modelled) and `basis` (measured, forecast) may be left out when reading: they
are then inferred from the location and the kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from warning.model import Basis, Coverage, Observation, ObservationKind, Value, required_text

KEYS = (
    "source",
    "kind",
    "event_id",
    "time",
    "lon",
    "lat",
    "area_ids",
    "values",
    "exercise",
    "coverage",
    "basis",
)
_REQUIRED = ("source", "kind", "event_id", "time")


class ObservationJSONError(ValueError):
    """An observation object (a scenario's inline observation) is not valid."""


def format_time(moment: datetime) -> str:
    """`2021-10-13T03:08:42Z` (fractions of a second kept when present)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def observation_to_json(obs: Observation) -> dict[str, Any]:
    """The JSON object of one observation, keys in the contract's order."""
    return {
        "source": obs.source,
        "kind": obs.kind.value,
        "event_id": obs.event_id,
        "time": format_time(obs.time),
        "lon": obs.lon,
        "lat": obs.lat,
        "area_ids": list(obs.area_ids),
        "values": dict(obs.values),
        "exercise": obs.exercise,
        "coverage": None if obs.coverage is None else obs.coverage.value,
        "basis": None if obs.basis is None else obs.basis.value,
    }


def observation_from_json(mapping: Mapping[str, Any]) -> Observation:
    """An Observation from such an object; ObservationJSONError naming the problems otherwise."""
    if not isinstance(mapping, Mapping):
        raise ObservationJSONError(
            f"an observation must be an object, not {type(mapping).__name__}"
        )
    problems = [f'unknown key "{k}" (valid: {", ".join(KEYS)})' for k in mapping if k not in KEYS]
    problems += [f'missing key "{k}"' for k in _REQUIRED if k not in mapping]
    if problems:
        raise ObservationJSONError("; ".join(problems))
    kind = _kind(mapping["kind"])
    basis = _choice(Basis, mapping.get("basis"), "basis")
    if basis is not None and (basis is Basis.FORECAST) != (kind is ObservationKind.PRAKIRAAN):
        raise ObservationJSONError(
            f"basis {basis.value} does not fit kind {kind.value}: forecasts are kind prakiraan"
        )
    return Observation(
        source=_string(mapping, "source"),
        kind=kind,
        event_id=_string(mapping, "event_id"),
        time=_time(mapping["time"]),
        values=_values(mapping.get("values", {})),
        lon=_coordinate(mapping.get("lon"), "lon", 180.0),
        lat=_coordinate(mapping.get("lat"), "lat", 90.0),
        area_ids=_area_ids(mapping.get("area_ids", [])),
        exercise=_flag(mapping.get("exercise", False)),
        coverage=_choice(Coverage, mapping.get("coverage"), "coverage"),
        basis=basis,
    )


_E = TypeVar("_E", Coverage, Basis)


def _choice(enum: type[_E], value: Any, name: str) -> _E | None:
    """One of an enum's values, or None when left out."""
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        valid = ", ".join(str(e.value) for e in enum)
        raise ObservationJSONError(f"{name} {value!r} is not one of {valid}") from None


def _string(mapping: Mapping[str, Any], key: str) -> str:
    """A required non-empty string."""
    return required_text(
        mapping,
        key,
        lambda value: ObservationJSONError(f"{key} must be a non-empty string, not {value!r}"),
    )


def _kind(value: Any) -> ObservationKind:
    """One of the observation kinds."""
    try:
        return ObservationKind(value)
    except ValueError:
        valid = ", ".join(k.value for k in ObservationKind)
        raise ObservationJSONError(f"kind {value!r} is not one of {valid}") from None


def _time(value: Any) -> datetime:
    """An ISO 8601 time with a zone (`Z` or an offset)."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ObservationJSONError(f"time {value!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise ObservationJSONError(f"time {value!r} has no time zone (write it in UTC ending in Z)")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ObservationJSONError(f"time {value!r} is out of range") from None


def _coordinate(value: Any, name: str, limit: float) -> float | None:
    """A longitude or latitude in range, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > limit:
        raise ObservationJSONError(
            f"{name} must be a number within ±{limit:g} or null, not {value!r}"
        )
    return float(value)


def _area_ids(value: Any) -> tuple[str, ...]:
    """A list of area id strings."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ObservationJSONError(f"area_ids must be a list of strings, not {value!r}")
    return tuple(value)


def _values(value: Any) -> dict[str, Value]:
    """An object of numbers, strings, booleans or nulls."""
    if not isinstance(value, Mapping):
        raise ObservationJSONError(f"values must be an object, not {value!r}")
    for key, item in value.items():
        if item is not None and not isinstance(item, str | int | float | bool):
            raise ObservationJSONError(f"values.{key} must be a number, text, true/false or null")
    return dict(value)


def _flag(value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise ObservationJSONError(f"exercise must be true or false, not {value!r}")
    return value
