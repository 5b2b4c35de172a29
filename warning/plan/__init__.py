"""Plan: who gets what, and every word a person reads.

`planner` turns an alert change into planned deliveries (siren commands, SMS
per contact, CAP); `messages` renders the rules' texts, `correction` the
corrections of cancelled alerts, `notices` what officials read about the
system itself (feed health, bad contacts, silent sirens, tests); `payloads`
declares the typed siren and CAP payloads; `contacts` loads who is reached
where.  Nothing here sends.
"""
