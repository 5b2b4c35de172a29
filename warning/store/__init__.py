"""Persist: the only place with SQL.

`sqlite.Store` holds the migrations, alert states and their log, recent
observations, feed state and the audit log, behind `interface.StateStore`;
`outbox` is the durable outbox with leased claims; `contacts` holds the
contacts file's people and `fanout` the SMS still owed, written set-based;
`status`, `drillrows`, `targets` and `records` are the read models of
`warning status`, the drill report, `warning alert cancel` and the audit
export and backups.  Nothing here decides or sends.
"""
