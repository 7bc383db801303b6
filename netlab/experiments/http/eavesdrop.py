"""What a host on the path sees of plain HTTP: a login form, password included.

Three hosts in a line: the client (192.0.2.1), a router (192.0.2.2 and 198.51.100.1) that
forwards between its two links, and the server (198.51.100.2). The router is any machine a
packet crosses: a Wi-Fi access point, a home router, an Internet provider's equipment. The
client fetches the login form, then posts a user name and password; the router only
*captures*, on its client-side interface, as ``tcpdump -i eth0`` would. Then the captured
bytes are searched for the password.

The HTTPS chapter repeats this with TLS on the same path, so the path and the login
application are public here: :func:`path_lab` and :func:`login_app`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from netlab.analysis.dissect import Segment
from netlab.analysis.http_capture import labels
from netlab.analysis.trace import Trace
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import CLIENT_PORT, TIMEOUT
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.lab import Host, Lab
from netlab.proto.http import HttpClient, Request, Response, serving
from netlab.views.message import HexDump
from netlab.views.table import Grid

__all__ = ["LOGIN_USER", "LOGIN_PASSWORD", "LOGIN_FORM", "login_app", "path_lab", "Eavesdrop",
           "eavesdrop"]

PORT = 80
#: The user name the login form accepts.
LOGIN_USER = "alice"
#: A password made up for the experiment, only ever typed into the lab's own login form.
LOGIN_PASSWORD = "correct-horse-battery-staple"
LOGIN_FORM = (
    '<!doctype html><title>Log in</title><form method="post" action="/login">'
    '<input name="username"> <input name="password" type="password"> '
    "<button>Log in</button></form>\n"
)


def login_app(request: Request) -> Response:
    """``GET /login`` gives the form; ``POST /login`` checks the password and sets a session."""
    if request.target != "/login":
        return Response.text(404, "not found\n")
    if request.method == "GET":
        return Response(status=200, body=LOGIN_FORM.encode(),
                        headers=(("content-type", "text/html; charset=utf-8"),))
    form = parse_qs(request.body.decode("utf-8", "replace"))
    if form.get("username") == [LOGIN_USER] and form.get("password") == [LOGIN_PASSWORD]:
        return Response.text(200, f"Welcome, {LOGIN_USER}!\n", headers=[
            ("set-cookie", f"session={secrets.token_hex(8)}; HttpOnly")])
    return Response.text(403, "wrong user name or password\n")


def path_lab(lab: Lab) -> tuple[Host, Host, Host]:
    """client — router — server, the router forwarding between the two networks."""
    client, router, server = lab.host("client"), lab.host("router"), lab.host("server")
    lab.link(client, router)
    lab.link(router, server)
    router.router()
    return client, router, server


def login_body() -> bytes:
    """The form as a browser posts it (``application/x-www-form-urlencoded``)."""
    return urlencode({"username": LOGIN_USER, "password": LOGIN_PASSWORD}).encode()


@dataclass(frozen=True, kw_only=True)
class Eavesdrop:
    """What the router captured while the client logged in over HTTP."""

    trace: Trace
    """Captured on the router's client-side interface only."""
    form: Response
    welcome: Response
    pcap_host: str = "router"
    keylog: None = None  # no TLS in this experiment

    @property
    def captured(self) -> bytes:
        """Every byte of every frame the router captured, one after the other."""
        return b"".join(f.data for f in self.trace.frames["router"])

    def password_found(self) -> bool:
        return LOGIN_PASSWORD.encode() in self.captured

    def password_segment(self) -> Segment:
        """The captured segment that carries the password."""
        for seg in self.trace.segments:
            if LOGIN_PASSWORD.encode() in seg.payload:
                return seg
        raise ExperimentError("no captured segment carries the password")

    def password_frame(self) -> HexDump:
        """That segment's whole Ethernet frame, the password marked."""
        return HexDump(self.password_segment().frame, mark=LOGIN_PASSWORD.encode())

    def table(self) -> Grid:
        """What the router saw, listed as a capture tool lists it (from, to, what it carried)."""
        conn = self.trace.connections()[0]
        http = labels(conn)
        rows = [["#", tr("time (ms)"), tr("source"), tr("destination"), tr("flags"),
                 "len", "HTTP"]]
        for s in self.trace.segments:
            rows.append([str(s.number), f"{(s.time_ns - self.trace.start_ns) / 1e6:.3f}",
                         f"{self.trace.name(s.src)} {s.src}:{s.sport}",
                         f"{self.trace.name(s.dst)} {s.dst}:{s.dport}", s.flags_text,
                         str(s.length), http.get(s.number, "")])
        return Grid(rows, right={"#", tr("time (ms)"), "len"})

    def facts(self) -> list[Fact]:
        """The section's claims, each checked on this run's data."""
        found = self.password_found()
        seg = self.password_segment() if found else None
        cookie = self.welcome.header("set-cookie")
        return [Fact(name="router-reads-password",
                     text=tr("a host on the path reads the password of a login over HTTP"),
                     holds=seg is not None and self.welcome.status == 200
                     and seg.payload.startswith(b"POST /login HTTP/1.1\r\n")
                     and seg.dst == "198.51.100.2"
                     and b"password=" + LOGIN_PASSWORD.encode() in seg.payload
                     and set(self.trace.frames) == {"router"},
                     evidence=f"{LOGIN_PASSWORD!r} in segment #{self.password_segment().number}"
                     if found else "not in the router's capture"),
                Fact(name="router-reads-cookie",
                     text=tr("it reads the session cookie the server sets in its answer too"),
                     holds=cookie is not None and cookie.encode() in self.captured,
                     evidence=f"Set-Cookie: {cookie}" if cookie else "no Set-Cookie")]

    def report(self) -> str:
        return (f"A login over HTTP, captured on the router\n\n"
                f"{self.table()}\n\n{self.password_frame()}\n\nFacts\n\n{checklist(self.facts())}")


@replayable
def eavesdrop() -> Eavesdrop:
    """Fetch the login form and log in, over plain HTTP, while the router captures."""
    with Lab() as lab:
        client, router, server = path_lab(lab)
        with serving(server, login_app, port=PORT), lab.capture(router) as cap:
            with HttpClient.connect(client, server.address, PORT, timeout=TIMEOUT,
                                    source_port=CLIENT_PORT) as http:
                form = http.request("GET", "/login")
                welcome = http.request("POST", "/login", body=login_body(), headers=[
                    ("content-type", "application/x-www-form-urlencoded")])
            time.sleep(0.05)  # the FINs cross the router
    if welcome.status != 200:
        raise ExperimentError(f"the login failed: {welcome.status} {welcome.body!r}")
    assert cap.trace is not None
    return Eavesdrop(trace=cap.trace, form=form, welcome=welcome)
