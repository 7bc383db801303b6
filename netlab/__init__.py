"""netlab: real socket, TCP, HTTP and HTTPS experiments, run where you read about them.

Every experiment runs in network namespaces that netlab creates and drops again, captures
its own packets, and returns a result whose trace, tables and diagrams the documentation
pages, the snippets and the tests all share.
"""

from netlab.capture import Capture, Frame
from netlab.decode import Segment
from netlab.errors import NetlabError, PrivilegeError
from netlab.tcpstates import TcpState
from netlab.trace import Connection, Trace

__version__ = "0.1.0"

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
