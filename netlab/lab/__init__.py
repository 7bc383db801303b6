"""Hosts in network namespaces, links between them, and a wire that can hold frames."""

from netlab.lab.lab import Host, Lab, LabCapture, Link
from netlab.lab.netns import Namespace
from netlab.lab.wire import Wire

__all__ = ["Lab", "Host", "Link", "LabCapture", "Namespace", "Wire"]
