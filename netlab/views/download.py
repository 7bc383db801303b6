"""A download link that carries its file inside the page (a ``data:`` URL).

A page embeds the pcap of the capture made while it was built, so the file a reader opens
in Wireshark is exactly the one the tables and diagrams were drawn from, with no file to
manage beside the HTML and nothing fetched from elsewhere. On the site the link names the run
the file comes from (:mod:`netlab.model.run`), the same run in both languages.
"""

from __future__ import annotations

import base64
import html

from netlab.analysis.trace import Trace
from netlab.i18n import tr
from netlab.kernel.scratch import directory
from netlab.model import run

__all__ = ["Download", "pcap_download"]


class Download:
    """A file offered for download.

    >>> from netlab.views.download import Download
    >>> d = Download("x.pcap", b"abc", "application/vnd.tcpdump.pcap", "3 frames")
    >>> d
    x.pcap (3 bytes): 3 frames
    >>> 'href="data:application/vnd.tcpdump.pcap;base64,YWJj"' in d._repr_html_()
    True
    """

    def __init__(self, filename: str, data: bytes, mime: str, summary: str = "") -> None:
        self.filename = filename
        self.data = data
        self.mime = mime
        self.summary = summary

    def __repr__(self) -> str:
        extra = f": {self.summary}" if self.summary else ""
        return f"{self.filename} ({len(self.data)} bytes){extra}"

    def _repr_html_(self) -> str:
        url = f"data:{self.mime};base64,{base64.b64encode(self.data).decode()}"
        extra = f" — {html.escape(self.summary)}" if self.summary else ""
        shown = run.current()
        about = (f'data-netlab-run="{html.escape(shown.run_id)}" '
                 f'title="{html.escape(shown.describe())}" ' if shown else "")
        return (
            f'<p class="netlab-download"><a download="{html.escape(self.filename)}" {about}'
            f'href="{url}">⤓ {html.escape(self.filename)}</a> '
            f"<span>({tr('{n} bytes').format(n=f'{len(self.data):,}')}{extra})</span></p>"
        )


def pcap_download(trace: Trace, filename: str, *, host: str | None = None) -> Download:
    """The pcap of ``host``'s capture (the trace's first capture by default) as a download."""
    if host is None:
        host = next(iter(trace.frames), "")
    with directory("netlab-pcap-") as tmp:  # a capture may hold a password sent in clear
        data = trace.write_pcap(tmp / filename, host=host).read_bytes()
    frames = len(trace.frames.get(host, ()))
    summary = tr("{frames} frames captured on {host}").format(frames=frames, host=host)
    return Download(filename, data, "application/vnd.tcpdump.pcap", summary)
