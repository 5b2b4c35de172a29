"""One immutable `Configuration`: the settings file and everything it points at.

The daemon holds exactly one; SIGHUP loads and validates a new one from the
settings file read again and swaps it whole (pipeline, channels, dispatcher),
or keeps the running one when any part is invalid.  Nothing built from the
settings read at start survives a reload.
"""

from __future__ import annotations

from dataclasses import dataclass

from warning.areas import AreaIndex, load_areas
from warning.delivery.broadcast import broadcast_problems
from warning.delivery.siren import siren_problems
from warning.model import ConfigError, Problem, Rule
from warning.plan.acklinks import AckLinks, ack_links
from warning.plan.broadcast import BroadcastTarget, broadcast_targets
from warning.plan.contacts import ContactFile, contact_file
from warning.rules import load_rules
from warning.settings import Settings, SirenSettings, load_settings, secret


@dataclass(frozen=True, slots=True)
class Configuration:
    """What the daemon runs on, validated together: settings, rules, areas, contacts, sirens."""

    settings: Settings
    rules: tuple[Rule, ...]
    areas: AreaIndex
    #: The contacts file: its size and hash, the few groups read person by person
    #: (officials, the escalation chain); everyone else lives in the store.
    contacts: ContactFile
    #: Bad contacts rows left out at start (reloads refuse them all-or-nothing).
    contact_problems: tuple[Problem, ...] = ()
    #: The acknowledgement-link signer; None when links are off (no public_url or key).
    links: AckLinks | None = None

    @property
    def sirens(self) -> tuple[SirenSettings, ...]:
        """The configured sirens (the settings' `[[sirens]]`)."""
        return self.settings.sirens

    @property
    def broadcasts(self) -> tuple[BroadcastTarget, ...]:
        """The Telegram chats, ntfy topics and webhooks, with their areas resolved."""
        return broadcast_targets(self.settings.broadcasts, self.areas)


def load_configuration(settings: Settings, *, starting: bool = False) -> Configuration:
    """Load and validate everything `settings` points at; ConfigError with every problem.

    `starting`: bad contacts rows are left out and kept in `contact_problems`
    instead of refusing the start (a restart loop would warn no one); a
    reload keeps its all-or-nothing rule.
    """
    areas = load_areas(settings.areas_path, settings.areas.min_polygon_share)
    problems: list[Problem] = []
    rules: tuple[Rule, ...] = ()
    contacts = ContactFile()
    bad_rows: list[Problem] = []
    try:
        rules = load_rules([settings.rules_dir], areas)
    except ConfigError as exc:
        problems += exc.problems
    if settings.contacts_path is not None:
        try:
            contacts, bad_rows = contact_file(
                settings.contacts_path,
                areas,
                starting=starting,
                kept_groups=[step.group for step in settings.escalation],
            )
        except ConfigError as exc:
            problems += exc.problems
    problems += siren_problems(settings, areas)
    links: AckLinks | None = None
    try:
        links = ack_links(settings, secret)
    except ConfigError as exc:
        problems += exc.problems
    problems += broadcast_problems(settings, areas)
    if problems:
        raise ConfigError(problems)
    return Configuration(settings, rules, areas, contacts, tuple(bad_rows), links)


def reload_configuration(running: Configuration) -> Configuration | ConfigError:
    """The settings file read again and everything loaded anew, or every problem found."""
    try:
        return load_configuration(load_settings(running.settings.source))
    except ConfigError as exc:
        return exc
