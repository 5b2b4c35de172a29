"""Face: the `warning` command's argument handling and rendering, no business logic.

`main` parses the command line and dispatches; `feeds`, `ops` and `outbox`
hold the feed, operator and outbox/SMS sub-commands.
"""
