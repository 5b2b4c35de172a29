"""Persist: the only place with SQL.

`sqlite.Store` holds the migrations, alert states and their log, recent
observations, feed state and the audit log; `outbox` the durable outbox with
leased claims.  Nothing here decides or sends.
"""
