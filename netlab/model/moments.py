"""Both sides' TCP states at one moment, and what had just happened, as data.

An experiment that steps a connection through its life reads both kernels' states after each
step (:class:`StatesAt`). What had just happened is a :class:`Moment`: a few
:class:`Happening` items, each a kind (a call, a segment's arrival, or a sentence) with its
host and its detail. A view translates a moment when it draws it
(:func:`netlab.views.moments.moment_text`); nothing parses the English back.

>>> from netlab.model.moments import Happening, Moment
>>> m = Moment((Happening.call("client", "close()"), Happening.arrival("FIN, ACK", "server")))
>>> str(m)
'client calls close(); FIN, ACK arrived at server'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from netlab.i18n import N_
from netlab.model.tcp_states import TcpState

__all__ = ["Happening", "Moment", "StatesAt", "Kind"]

#: The kinds of :class:`Happening`. A socket call, a segment arriving (for the first time
#: or again), or a sentence of its own.
Kind = Literal["call", "arrival", "again", "sentence"]

#: The English of each kind. ``{host}`` is ``client`` or ``server``, ``{detail}`` the call
#: or the segment's flags, printed as they are in every language.
TEMPLATES: dict[str, str] = {
    "call": N_("{host} calls {detail}"),
    "arrival": N_("{detail} arrived at {host}"),
    "again": N_("{detail} arrived at {host} again"),
    "sentence": "{detail}",
}


@dataclass(frozen=True)
class Happening:
    """One thing that happened since the previous moment."""

    kind: Kind
    detail: str
    """The call (``close()``), the segment's flags (``FIN, ACK``), or the sentence."""
    host: str = ""
    """Who made the call or received the segment."""

    @classmethod
    def call(cls, host: str, call: str) -> Happening:
        return cls("call", call, host)

    @classmethod
    def arrival(cls, flags: str, host: str, *, again: bool = False) -> Happening:
        return cls("again" if again else "arrival", flags, host)

    @classmethod
    def sentence(cls, text: str) -> Happening:
        return cls("sentence", text)

    def __str__(self) -> str:
        return TEMPLATES[self.kind].format(host=self.host, detail=self.detail)


@dataclass(frozen=True)
class Moment:
    """What had happened when the states were read, in time order."""

    happenings: tuple[Happening, ...]

    @classmethod
    def of(cls, text: str) -> Moment:
        """A moment described by one sentence (``"SYN on the wire"``)."""
        return cls((Happening.sentence(text),))

    def __str__(self) -> str:
        return "; ".join(str(h) for h in self.happenings)


@dataclass(frozen=True, kw_only=True)
class StatesAt:
    """Both kernels' states of one connection at one moment (the one shape for it).

    The handshake reads the listening socket's accept queue too; other experiments leave it
    None.
    """

    moment: Moment
    client: TcpState
    server: TcpState
    timestamp_ns: int
    """When the states were read (CLOCK_REALTIME, the clock of packet timestamps)."""
    accept_queue: int | None = None
    """Connections waiting in the server's accept queue, where it was read."""

    def of(self, host: str) -> TcpState:
        """The state of ``host``'s side: ``"client"`` or ``"server"``."""
        if host not in ("client", "server"):
            raise KeyError(host)
        return self.client if host == "client" else self.server
