"""A real mosquitto broker on an ephemeral port, and test siren controllers on it.

`make test` installs mosquitto when it is missing (scripts/test-tools), so the
MQTT tests run wherever the README's test command does.  Run otherwise (plain
pytest on a machine without it) they are skipped with the reason; with `$CI`
set a missing binary fails the run.  Every binary is looked up before anything
is started, so a missing mosquitto_passwd is that message too, not a traceback.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.paths import free_port

#: Where Debian puts the broker: not on an ordinary user's PATH.
SBIN = "/usr/sbin"


def mosquitto_binary(name: str = "mosquitto") -> str:
    """Path of a mosquitto program (`mosquitto`, `mosquitto_passwd`); skip or fail when absent."""
    found = shutil.which(name) or shutil.which(name, path=SBIN)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed but CI is set: `make test` installs it")
    pytest.skip(f"{name} is not installed: `make test` installs it (or apt-get install mosquitto)")


def wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    raise TimeoutError(f"mosquitto did not listen on port {port}")


def broker_config(directory: Path, port: int, user: tuple[str, str] | None) -> Path:
    """A minimal mosquitto.conf: anonymous, or only `user` (name, password) when given."""
    config = directory / f"mosquitto-{port}.conf"
    # Started as root, mosquitto would drop to the `mosquitto` user and lose our files.
    lines = [
        f"listener {port} 127.0.0.1",
        f"allow_anonymous {'false' if user else 'true'}",
        f"user {getpass.getuser()}",
    ]
    if user:
        passwords = directory / f"passwords-{port}"
        subprocess.run(
            [mosquitto_binary("mosquitto_passwd"), "-b", "-c", str(passwords), *user],
            check=True,
            timeout=30,
        )
        lines.append(f"password_file {passwords}")
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


@contextmanager
def running_mosquitto(
    directory: Path, port: int | None = None, user: tuple[str, str] | None = None
) -> Iterator[int]:
    """Start mosquitto on 127.0.0.1 (anonymous unless `user`); yield its port; terminate it."""
    port = port or free_port()
    broker = mosquitto_binary()
    config = broker_config(directory, port, user)
    process = subprocess.Popen(
        [broker, "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


class SirenController:
    """A siren controller on the broker: records commands, answers when told to.

    `answer` is the ack `status` to send ("ok", "error"), or None to stay silent;
    `ack_change_id`, when set, replaces the change_id in the answers; `ack_key`
    is the key it is sent under (`alert_id`: firmware flashed before the rename).
    """

    def __init__(
        self,
        port: int,
        topic: str,
        reply_topic: str,
        answer: str | None,
        user: tuple[str, str] | None = None,
    ) -> None:
        self.received: list[dict[str, Any]] = []
        self.ack_change_id: str | None = None
        self.ack_key = "change_id"
        self._reply_topic, self._answer = reply_topic, answer
        self._subscribed = threading.Event()
        self._client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self._client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        if user:
            self._client.username_pw_set(*user)
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise TimeoutError("test controller could not subscribe")

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: Any) -> None:
        """Record the command and acknowledge it as configured."""
        body = json.loads(message.payload)
        self.received.append(body)
        if self._answer is not None:
            ack = {
                self.ack_key: self.ack_change_id or body["change_id"],
                "command": body["command"],
                "status": self._answer,
                "id": f"ack-{len(self.received)}",
            }
            client.publish(self._reply_topic, json.dumps(ack), qos=1)

    def close(self) -> None:
        """Disconnect the controller."""
        self._client.disconnect()
        self._client.loop_stop()
