"""Operator actions: cancel an alert, stop sirens, send a manual alert, audit and backup.

Every action writes its outbox rows, state changes and audit entry in one
transaction of the same store the daemon uses, so a running daemon sends
them within its outbox poll; the command can also send its own rows itself
(atomic claims keep the two from sending a row twice).  Actions receive an
`OperatorSettings`, the few sections they read, built where the command or
the console starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from warning.delivery.channel import ChannelSettings
from warning.settings import Settings


class OperationError(Exception):
    """An operator's request that cannot be carried out, said in the operator's words."""


@dataclass(frozen=True, slots=True)
class OperatorSettings:
    """What operator actions read of the settings: where things are, and the channels."""

    state_path: Path
    areas_path: Path
    rules_dir: Path
    #: The contacts CSV (None: none configured, corrections and manual alerts reach no one).
    contacts_path: Path | None
    #: The sirens, SMS, CAP and broadcast sections, for planning and sending the command's rows.
    channels: ChannelSettings

    @classmethod
    def of(cls, settings: Settings) -> OperatorSettings:
        """The operator's sections of `settings` (its paths resolved)."""
        return cls(
            settings.state_path,
            settings.areas_path,
            settings.rules_dir,
            settings.contacts_path,
            ChannelSettings.of(settings),
        )
