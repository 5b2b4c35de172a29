"""One immutable `Configuration`: the settings file and everything it points at.

The daemon holds exactly one; SIGHUP loads and validates a new one from the
settings file read again and swaps it whole (pipeline, channels, dispatcher),
or keeps the running one when any part is invalid.  Nothing built from the
settings read at start survives a reload.
"""

from __future__ import annotations

from dataclasses import dataclass

from warning.areas import AreaIndex, load_areas
from warning.delivery.siren import siren_problems
from warning.model import ConfigError, Problem, Rule
from warning.plan.contacts import Contact, load_contacts
from warning.rules import load_rules
from warning.settings import Settings, SirenSettings, load_settings


@dataclass(frozen=True, slots=True)
class Configuration:
    """What the daemon runs on, validated together: settings, rules, areas, contacts, sirens."""

    settings: Settings
    rules: tuple[Rule, ...]
    areas: AreaIndex
    contacts: tuple[Contact, ...]

    @property
    def sirens(self) -> tuple[SirenSettings, ...]:
        """The configured sirens (the settings' `[[sirens]]`)."""
        return self.settings.sirens


def load_configuration(settings: Settings) -> Configuration:
    """Load and validate everything `settings` points at; ConfigError with every problem."""
    areas = load_areas(settings.areas_path)
    problems: list[Problem] = []
    rules: tuple[Rule, ...] = ()
    contacts: tuple[Contact, ...] = ()
    try:
        rules = load_rules([settings.rules_dir], areas)
    except ConfigError as exc:
        problems += exc.problems
    if settings.contacts_path is not None:
        try:
            contacts = load_contacts(settings.contacts_path, areas)
        except ConfigError as exc:
            problems += exc.problems
    problems += siren_problems(settings, areas)
    if problems:
        raise ConfigError(problems)
    return Configuration(settings, rules, areas, contacts)


def reload_configuration(running: Configuration) -> Configuration | ConfigError:
    """The settings file read again and everything loaded anew, or every problem found."""
    try:
        return load_configuration(load_settings(running.settings.source))
    except ConfigError as exc:
        return exc
