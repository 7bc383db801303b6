"""The ``netlab`` command: list the experiments, run one, save its capture.

Exit status (also in ``netlab --help`` and README):

===  ==========================================================================
0    every fact the experiment checks holds
1    a fact does not hold, or the network misbehaved
2    a usage error: a bad argument, found before anything runs
70   a bug in netlab (one line; ``NETLAB_TRACEBACK=1`` shows the traceback)
74   an output could not be written (a full disk, ``> /dev/full``)
77   privileges are missing (``EX_NOPERM``)
130  interrupted by Ctrl-C or SIGTERM (the lab is taken down first)
141  the reader of the output went away (``netlab run handshake | head -1``)
===  ==========================================================================

No traceback reaches the user. Files named with ``--pcap`` and ``--keylog`` are checked
before the experiment runs, and written to a fresh file beside the target that then
replaces it, so a symbolic link planted at the target is replaced, never followed; the
key log is readable by its owner only (0600).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import threading
import typing
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from netlab.errors import NetlabError, PrivilegeError

if TYPE_CHECKING:
    from netlab.experiments.result import Result

__all__ = ["main", "console", "run_experiment", "EX_NOPERM", "EXIT_CODES"]

EX_USAGE = 2
EX_SOFTWARE = 70
EX_IOERR = 74
EX_NOPERM = 77
EX_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a program Ctrl-C stopped
EX_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `yes | head -1`'s yes
EXIT_CODES = {
    0: "every fact the experiment checks holds",
    1: "a fact does not hold, or the network misbehaved",
    EX_USAGE: "usage error (checked before anything runs)",
    EX_SOFTWARE: "a bug in netlab (NETLAB_TRACEBACK=1 shows where)",
    EX_IOERR: "an output could not be written",
    EX_NOPERM: "privileges are missing (run as root, or with sudo)",
    EX_INTERRUPTED: "interrupted (Ctrl-C or SIGTERM)",
    EX_PIPE: "the reader of the output went away",
}


_interrupted = threading.Event()
"""Set by the first SIGINT or SIGTERM. The KeyboardInterrupt it raises may land anywhere,
in a lock's bookkeeping for one, and turn into another error on its way out; any error
after it is reported as the interruption it is."""


class _OutputError(Exception):
    """Standard output cannot be written (a closed pipe, a full disk)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror)
        self.error = error


def _out(text: str = "") -> None:
    try:
        print(text, flush=True)
    except OSError as exc:
        raise _OutputError(exc) from None


def _err(text: str) -> None:
    with contextlib.suppress(OSError):
        print(text, file=sys.stderr, flush=True)


def _mute_stdout() -> None:
    """Point standard output at /dev/null, so that the interpreter's last flush of what is
    still buffered cannot fail again (and print "Exception ignored ...") on the way out."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM does what Ctrl-C does (KeyboardInterrupt, so the lab is taken down); either
    signal is then ignored while the lab comes down, so a second one cannot cut the cleanup
    short. Only the main thread can set handlers; elsewhere nothing changes."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _interrupted.set()
        raise KeyboardInterrupt

    def unraisable(args: typing.Any) -> None:
        # The KeyboardInterrupt landed where Python cannot raise it (a fork handler of the
        # logging module, a __del__): it would print "Exception ignored in" and a traceback,
        # and the run would go on. The run's end is reported as the interruption it was.
        if not (_interrupted.is_set() and isinstance(args.exc_value, KeyboardInterrupt)):
            hook(args)

    _interrupted.clear()
    try:
        before = {s: signal.signal(s, interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread
        yield
        return
    hook, sys.unraisablehook = sys.unraisablehook, unraisable
    try:
        yield
    finally:
        if _interrupted.is_set():  # both signals are ignored now: this cannot be cut short
            _clear_scratch()
        sys.unraisablehook = hook
        for s, handler in before.items():
            signal.signal(s, handler)


def _guarded(prefix: str, body: Callable[[], int]) -> int:
    """Run ``body``; turn an interruption, an output error or a bug into one line and a code."""
    with _interruptible():
        try:
            status = body()
            if _interrupted.is_set() and status != EX_INTERRUPTED:
                # the signal was lost where it could not be raised (an inner _guarded has
                # said so already if it returned EX_INTERRUPTED)
                raise KeyboardInterrupt
            return status
        except KeyboardInterrupt:
            _err(f"{prefix}interrupted; the lab was taken down")
            return EX_INTERRUPTED
        except _OutputError as exc:
            _mute_stdout()
            if isinstance(exc.error, BrokenPipeError):
                return EX_PIPE
            _err(f"{prefix}cannot write the output: {exc.error.strerror}")
            return EX_IOERR
        except Exception as exc:
            if _interrupted.is_set():
                _err(f"{prefix}interrupted; the lab was taken down")
                return EX_INTERRUPTED
            if os.environ.get("NETLAB_TRACEBACK"):
                raise
            _err(f"{prefix}internal error, please report it: {type(exc).__name__}: {exc} "
                 "(NETLAB_TRACEBACK=1 shows the traceback)")
            return EX_SOFTWARE


def _reap() -> None:
    """Remove what runs killed by SIGKILL left in the scratch directory (it holds no key
    log, those live in memory, but may hold a capture with a password in it)."""
    from netlab.kernel import scratch

    with contextlib.suppress(OSError, NetlabError):
        scratch.reap()


def _clear_scratch() -> None:
    """Remove this run's own scratch directories: a signal that lands while one is being
    made or removed leaves it behind (it may hold a capture with a password in it)."""
    from netlab.kernel import scratch

    with contextlib.suppress(OSError, NetlabError):
        scratch.clear()


def _parser() -> argparse.ArgumentParser:
    from netlab.experiments import EXPERIMENTS

    codes = "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="netlab",
        description="Run real TCP/IP experiments in private network namespaces.",
        epilog=f"exit status:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list the experiments")
    run = sub.add_parser("run", help="run an experiment and print what it observed",
                         epilog=f"exit status:\n{codes}",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("experiment", choices=sorted(EXPERIMENTS), metavar="EXPERIMENT",
                     help="one of: " + ", ".join(sorted(EXPERIMENTS)))
    run.add_argument("--pcap", metavar="FILE",
                     help="also save a capture as a pcap file for Wireshark: the client's, the "
                          "server's or a router's, whichever the experiment saves (it says so)")
    run.add_argument("--keylog", metavar="FILE",
                     help="TLS experiments: also save the NSS key log, so Wireshark can decrypt "
                          "the pcap (written readable by you only, mode 600)")
    return parser


def _has_keylog(run: Callable[[], Result]) -> bool | None:
    """Whether ``run``'s result can hold a TLS key log, from its type: False where its
    ``keylog`` is declared ``None`` (no TLS in this experiment); None where the types do not
    say (then the result itself is asked, after the run)."""
    try:
        result = typing.get_type_hints(run).get("return")
        hints = typing.get_type_hints(result) if isinstance(result, type) else {}
    except Exception:  # no annotations, or ones that do not resolve: unknown
        return None
    if "keylog" in hints:
        return hints["keylog"] is not type(None)
    if isinstance(result, type) and hasattr(result, "keylog"):
        return getattr(result, "keylog", None) is not None or None
    return None


def _check_output(path: str | None, option: str) -> str | None:
    """Why ``path`` cannot be the target of ``option``, or None if it can."""
    if path is None:
        return None
    if not path:
        return f"{option} needs a file name, not an empty string"
    if os.path.islink(path):
        return (f"cannot write {path}: it is a symbolic link (netlab replaces files, it does "
                "not write through links)")
    if os.path.isdir(path):
        return f"cannot write {path}: it is a directory"
    if os.path.exists(path) and not os.path.isfile(path):
        return f"cannot write {path}: it is not a regular file"
    folder = os.path.dirname(os.path.abspath(path))
    if not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
        return f"cannot write {path}: {folder} is not a writable directory"
    return None


def _check_outputs(run: Callable[[], Result], pcap: str | None, keylog: str | None) -> str | None:
    """The first reason the outputs asked for cannot be written, before anything runs."""
    for path, option in ((pcap, "--pcap"), (keylog, "--keylog")):
        if (why := _check_output(path, option)) is not None:
            return why
    if pcap and keylog and os.path.realpath(pcap) == os.path.realpath(keylog):
        return f"--pcap and --keylog name the same file, {pcap}: give each its own"
    if keylog and _has_keylog(run) is False:
        return "this experiment has no TLS key log to save"
    return None


def _replace(path: str, write: Callable[[Path], object], *, private: bool = False) -> None:
    """Write a fresh file beside ``path`` (O_EXCL, so nothing planted is opened), then rename
    it over ``path`` (a link there is replaced, not followed). ``private``: mode 0600."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        if not private:  # what open() would have made: 0666 less the umask
            umask = os.umask(0o022)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)
        os.close(fd)
        write(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def run_experiment(run: Callable[[], Result], *, pcap: str | None = None,
                   keylog: str | None = None, prefix: str = "netlab: ") -> int:
    """Run an experiment, print its report, save its capture; the exit status to return.

    The CLI and every snippet in ``snippets/`` end here, so they print and fail alike (see
    :data:`EXIT_CODES`): 0 when every fact holds, 1 when one does not or the network
    misbehaved, 2 when an output cannot be written (checked before anything runs), 77
    without the privileges, 130 when interrupted (Ctrl-C or SIGTERM), never a traceback.

    Args:
        run: the experiment function (its result is a
            :class:`~netlab.experiments.result.Result`).
        pcap: where to save the capture of ``result.pcap_host``, if anywhere.
        keylog: where to save ``result.keylog``, the TLS key log of the capture, if anywhere
            (an error for an experiment without TLS); written with mode 0600.
        prefix: put before every error message.
    """
    return _guarded(prefix, lambda: _run(run, pcap, keylog, prefix))


def _run(run: Callable[[], Result], pcap: str | None, keylog: str | None, prefix: str) -> int:
    if (why := _check_outputs(run, pcap, keylog)) is not None:
        _err(f"{prefix}{why}")
        return EX_USAGE
    _reap()
    from netlab.experiments.result import save_pcap

    try:
        result = run()
    except PrivilegeError as exc:
        _err(f"{prefix}{exc}")
        return EX_NOPERM
    except NetlabError as exc:
        if _interrupted.is_set():  # a consequence of the interruption, not a finding
            raise KeyboardInterrupt from None
        _err(f"{prefix}{exc}")
        return 1
    _out(result.report())
    keys = result.keylog if keylog else None
    if keylog and keys is None:
        _err(f"{prefix}this experiment has no TLS key log to save")
        return EX_USAGE
    if pcap:
        try:
            _replace(pcap, lambda tmp: save_pcap(result, tmp))
        except OSError as exc:
            _err(f"{prefix}cannot write {pcap}: {exc.strerror}")
            return EX_IOERR
        _out(f"\nthe {result.pcap_host}'s capture saved to {pcap} (open it with Wireshark or "
             "tshark -r)")
    if keylog:
        data: bytes = keys or b""
        try:
            _replace(keylog, lambda tmp: tmp.write_bytes(data), private=True)
        except OSError as exc:
            _err(f"{prefix}cannot write {keylog}: {exc.strerror}")
            return EX_IOERR
        _out(f"key log saved to {keylog} (Wireshark: Preferences → Protocols → TLS → "
             "(Pre)-Master-Secret log filename)")
    return 0 if all(f.holds for f in result.facts()) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``netlab`` command with ``argv``; its exit status."""
    return _guarded("netlab: ", lambda: _main(argv))


def console() -> None:
    """Entry point of the ``netlab`` console script and of ``python -m netlab``.

    After :func:`main` has returned, SIGINT and SIGTERM are ignored: the lab is gone and
    everything is printed, and a signal that arrives while the interpreter shuts down would
    otherwise end the process with the signal's status instead of the run's.
    """
    status = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(status)


def _main(argv: Sequence[str] | None) -> int:
    from netlab.experiments import EXPERIMENTS

    _reap()
    try:
        args = _parser().parse_args(argv)
    except BrokenPipeError as exc:  # --help into a closed pipe
        raise _OutputError(exc) from None
    if args.command == "list":
        width = max(map(len, EXPERIMENTS))
        for e in EXPERIMENTS.values():
            _out(f"{e.name.ljust(width)}  {e.summary}")
        return 0
    return run_experiment(EXPERIMENTS[args.experiment].run, pcap=args.pcap, keylog=args.keylog)


if __name__ == "__main__":
    console()
