"""Operator actions: cancel an alert, stop sirens, send a manual alert, audit and backup.

Every action writes its outbox rows, state changes and audit entry in one
transaction of the same store the daemon uses, so a running daemon sends
them within its outbox poll; the command can also send its own rows itself
(atomic claims keep the two from sending a row twice).
"""

from __future__ import annotations


class OperationError(Exception):
    """An operator's request that cannot be carried out, said in the operator's words."""
