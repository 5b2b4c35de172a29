"""Face: the `warning` command's argument handling and rendering, no business logic.

`main` parses the command line and dispatches; `feeds`, `ops`, `outbox` and
`status` hold the feed, operator, outbox/SMS and status sub-commands.
"""
