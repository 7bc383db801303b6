"""netlab: real socket, TCP, HTTP and HTTPS experiments, run where you read about them.

Every experiment runs in network namespaces that netlab creates and drops again, captures
its own packets, and returns a result whose trace, tables and diagrams the documentation
pages, the snippets and the tests all share.

The package is in layers, each importing only from those below it (the import-linter
contract in ``pyproject.toml``; ``lint-imports`` checks it), top to bottom:

- :mod:`netlab.cli`: the ``netlab`` command.
- :mod:`netlab.experiments`: one folder per chapter; every experiment returns a
  :class:`~netlab.experiments.result.Result`.
- :mod:`netlab.views`: tables, SVG figures, the packet inspector, downloads.
- :mod:`netlab.lab`: hosts, links and captures.
- :mod:`netlab.analysis`: dissection, traces, state timelines, HTTP and TLS from captures.
- :mod:`netlab.proto`: HTTP/1.1, HTTP/2, TLS, WebSocket, heartbeats, framing.
- :mod:`netlab.kernel`: namespaces, veth, the wire, nftables, capture, sock_diag, TCP_INFO.
- :mod:`netlab.model`: TCP's states and transitions as data.
- :mod:`netlab.errors` and :mod:`netlab.i18n`: the exception hierarchy; the page's language.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netlab.analysis.dissect import Segment
    from netlab.analysis.trace import Connection, Trace
    from netlab.errors import NetlabError, PrivilegeError
    from netlab.kernel.capture import Capture, Frame
    from netlab.model.tcp_states import TcpState

__version__ = "0.1.0"

# The names below are imported on first use, not with the package: ``netlab`` on the command
# line then starts without loading scapy, and a Ctrl-C while it starts finds the CLI's
# handlers already in place.
_LAZY = {
    "Segment": "netlab.analysis.dissect",
    "Connection": "netlab.analysis.trace",
    "Trace": "netlab.analysis.trace",
    "NetlabError": "netlab.errors",
    "PrivilegeError": "netlab.errors",
    "Capture": "netlab.kernel.capture",
    "Frame": "netlab.kernel.capture",
    "TcpState": "netlab.model.tcp_states",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'netlab' has no attribute {name!r}")

__all__ = [
    "Capture",
    "Connection",
    "Frame",
    "NetlabError",
    "PrivilegeError",
    "Segment",
    "TcpState",
    "Trace",
    "__version__",
]
