"""Test support shared by every suite: paths, local peers (feed, Twilio, siren, MQTT broker)."""
