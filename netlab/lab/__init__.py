"""Hosts in network namespaces, links between them, captures on them: :mod:`~netlab.lab.lab`
composes the pieces of :mod:`netlab.kernel` into a lab."""

from netlab.kernel.netns import Namespace
from netlab.kernel.wire import Wire
from netlab.lab.lab import Host, Lab, LabCapture, Link

__all__ = ["Lab", "Host", "Link", "LabCapture", "Namespace", "Wire"]
