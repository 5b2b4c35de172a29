"""Plan: who gets what, and every word a person reads.

`planner` turns an alert change into planned deliveries (siren commands, SMS
per contact, CAP); `messages` renders the texts; `payloads` declares the typed
CAP payload; `contacts` loads who is reached where.  Nothing here sends.
"""
