"""The console's defences, tested against a real `warning console` process over HTTP.

CSRF on every state-changing request, no session fixation, a rate limit on
wrong passwords, cookies HttpOnly and SameSite, no secret in any page or log,
and no page that loads anything from outside (the map works offline).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.console import PASSWORDS, Console, deployment, running_console
from tests.support.deployment import ACCOUNT_SID, AUTH_TOKEN, SIREN_TOKEN, Deployment
from tests.support.peers import FeedServer, SirenServer, TwilioServer

pytestmark = pytest.mark.slow


@dataclass
class Site:
    """The module's deployment and console."""

    deployment: Deployment
    console: Console

    def login_form(self, session: requests.Session) -> str:
        """GET /login; the form's CSRF token."""
        page = session.get(self.console.url + "/login", timeout=10)
        match = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert match is not None
        return match.group(1)

    def log_in(self, name: str, password: str | None = None) -> requests.Session:
        """A logged-in HTTP session."""
        session = requests.Session()
        token = self.login_form(session)
        reply = session.post(
            self.console.url + "/login",
            data={"username": name, "password": password or PASSWORDS[name], "csrf": token},
            allow_redirects=False,
            timeout=10,
        )
        assert reply.status_code == 303, reply.text
        return session

    def csrf(self, session: requests.Session) -> str:
        """The CSRF token of the room page of a logged-in session."""
        page = session.get(self.console.url + "/", timeout=10).text
        match = re.search(r'data-csrf="([^"]+)"', page)
        assert match is not None
        return match.group(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A console on a fresh deployment (no alerts needed)."""
    with FeedServer() as feeds, TwilioServer() as twilio, SirenServer() as sirens:
        found = deployment(tmp_path_factory.mktemp("secure"), feeds, twilio, sirens)
        with running_console(found) as served:
            yield Site(found, served)


def test_an_action_without_the_sessions_csrf_token_is_refused(site: Site) -> None:
    """An operator's POST with a missing or foreign CSRF token answers 403 and does nothing."""
    operator = site.log_in("ops1")
    other = site.log_in("ops2")
    url = site.console.url + "/actions/siren-stop"
    assert operator.post(url, data={"siren": "all"}, timeout=10).status_code == 403
    foreign = {"siren": "all", "csrf": site.csrf(other)}
    assert operator.post(url, data=foreign, timeout=10).status_code == 403
    cross_site = {"siren": "all", "csrf": site.csrf(operator)}
    headers = {"origin": "http://evil.example"}
    assert operator.post(url, data=cross_site, headers=headers, timeout=10).status_code == 403
    assert operator.post(url, data=cross_site, timeout=10).status_code == 200


def test_login_needs_the_forms_csrf_token(site: Site) -> None:
    """A login posted from elsewhere (no token of ours) is refused before any password check."""
    session = requests.Session()
    site.login_form(session)
    data = {"username": "ops1", "password": PASSWORDS["ops1"], "csrf": "guessed"}
    reply = session.post(site.console.url + "/login", data=data, timeout=10, allow_redirects=False)
    assert reply.status_code == 403
    assert "warning_session" not in reply.cookies


def test_login_rotates_the_session_so_a_planted_id_is_worthless(site: Site) -> None:
    """A session id set before the login is never the one after it, and a known one is ended."""
    first = site.log_in("viewer")
    planted = first.cookies["warning_session"]
    victim = requests.Session()
    victim.cookies.set("warning_session", planted)
    token = site.login_form(victim)
    reply = victim.post(
        site.console.url + "/login",
        data={"username": "ops1", "password": PASSWORDS["ops1"], "csrf": token},
        allow_redirects=False,
        timeout=10,
    )
    assert reply.status_code == 303
    fresh = reply.cookies["warning_session"]
    assert fresh != planted
    assert first.get(site.console.url + "/api/room", timeout=10).status_code == 401
    cookie = reply.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def test_wrong_passwords_are_rate_limited_even_before_the_right_one(site: Site) -> None:
    """After 5 wrong passwords for a user, a 6th attempt, right or wrong, answers 429."""
    for _ in range(5):
        session = requests.Session()
        token = site.login_form(session)
        data = {"username": "ops2", "password": "salah-sekali-lagi", "csrf": token}
        assert session.post(site.console.url + "/login", data=data, timeout=10).status_code == 401
    session = requests.Session()
    token = site.login_form(session)
    data = {"username": "ops2", "password": PASSWORDS["ops2"], "csrf": token}
    assert session.post(site.console.url + "/login", data=data, timeout=10).status_code == 429


def test_no_secret_appears_in_any_page_or_in_the_log(site: Site) -> None:
    """Twilio and siren credentials, passwords and session ids show nowhere."""
    operator = site.log_in("ops1")
    session_id = operator.cookies["warning_session"]
    pages = [
        operator.get(site.console.url + path, timeout=10).text
        for path in ("/", "/api/room", "/drill", "/peta", "/api/areas", "/login")
    ]
    secrets = [ACCOUNT_SID, AUTH_TOKEN, SIREN_TOKEN, session_id, *PASSWORDS.values()]
    log = site.console.log.read_text(encoding="utf-8")
    for text in [*pages, log]:
        for secret in secrets:
            assert secret not in text


def test_no_page_loads_anything_from_another_site(site: Site) -> None:
    """Every src/href of the pages and every url() of the stylesheet is our own."""
    operator = site.log_in("ops1")
    for path in ("/", "/peta", "/login", "/drill"):
        page = operator.get(site.console.url + path, timeout=10).text
        links = re.findall(r'(?:src|href)="([^"]*)"', page)
        assert links
        assert all(link.startswith("/") for link in links), (path, links)
    css = operator.get(site.console.url + "/static/console.css", timeout=10).text
    assert "http" not in css
    policy = operator.get(site.console.url + "/", timeout=10).headers["content-security-policy"]
    assert "default-src 'self'" in policy


def test_public_pages_need_no_login_and_show_no_operator_data(site: Site) -> None:
    """/peta and /api/areas answer without a session; the room's data does not."""
    anonymous = requests.Session()
    assert anonymous.get(site.console.url + "/peta", timeout=10).status_code == 200
    areas = anonymous.get(site.console.url + "/api/areas", timeout=10).json()
    assert len(areas["features"]) == 34
    assert set(areas["features"][0]["properties"]) == {"id", "name", "level"}
    assert anonymous.get(site.console.url + "/api/room", timeout=10).status_code == 401
    assert anonymous.post(site.console.url + "/actions/siren-stop", timeout=10).status_code == 401


def test_pages_are_in_bahasa_indonesia_until_english_is_chosen(site: Site) -> None:
    """The login page speaks Indonesian; /lang/en switches it to English and back."""
    session = requests.Session()
    assert "Kata sandi" in session.get(site.console.url + "/login", timeout=10).text
    english = session.get(site.console.url + "/lang/en?next=/login", timeout=10)
    assert english.url.endswith("/login")
    assert "Password" in english.text
    assert "Kata sandi" in session.get(site.console.url + "/lang/id?next=/login", timeout=10).text
    outside = session.get(site.console.url + "/lang/en?next=//evil.example", timeout=10)
    assert urlsplit(outside.url).netloc == urlsplit(site.console.url).netloc
