"""Plan: who gets what, and every word a person reads.

`planner` turns an alert transition into planned deliveries (siren commands,
SMS per contact, CAP); `messages` renders the texts; `contacts` loads who is
reached where.  Nothing here sends.
"""
