"""Test support shared by every suite, the only place tests take helpers from.

paths (ROOT, FIXTURES, AREAS_FILE, free_port) · areas (the city, loaded once) ·
deployment (the one settings writer: tables, feeds, sirens, contacts CSV; the test
contacts; a deployment on the local peers) · builders (rules, transitions, contacts
for the planner) · rules (the engine's observation and rule builders) · feeds (fixtures
and feed contexts) · pipeline, ack_rig (a Pipeline on a real store) · operations (an
episode as operators find it) · drill · processes (`warning` as a subprocess) ·
console, ack_console (the web console and a browser) · reports · peers/ (feed,
Twilio, siren, MQTT, Telegram, webhook servers) · run_dispatcher (the crash test's sender).
"""
