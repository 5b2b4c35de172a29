"""Run: `warning run` and `warning drill`, no business logic.

`schedule` runs the APScheduler jobs, signals and reloads (one `configuration.
Configuration` swapped whole); `pipeline` does one poll or tick (feed ->
observations -> engine -> transitions, committed with their planned deliveries);
`health` serves metrics and /healthz; `drill` and `drillreport` play scenarios.
"""
