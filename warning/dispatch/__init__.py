"""Delivery: the durable outbox and the channels (sirens, SMS, CAP) it feeds."""
