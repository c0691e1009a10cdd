"""Ctrl-C during ``terraform apply``: stop what has not started, keep answering.

Terraform answers an interrupt by calling ``StopProvider`` (go-plugin's "cancel what is in
flight") and waiting for the calls in flight to return; it kills the plugin only when the run
is over. ``tf`` treats ``StopProvider`` as a shutdown and stops the gRPC server at once, so
every call in flight, and every call Terraform still makes while it winds down, fails with
"Plugin did not respond", and a terminal's Ctrl-C (sent to the whole process group) also
raises ``KeyboardInterrupt`` in the plugin. Here instead:

* :class:`StopCalls` answers ``StopProvider`` by setting a flag: calls in flight finish (each
  write is one transaction, so nothing is half-written), and calls that start afterwards
  return an "interrupted" error without touching the registry. ``ConfigureProvider`` clears
  the flag (a process that serves several runs, such as ``--dev``, serves the next one).
* :class:`ShutdownInterceptor` stops the server only on go-plugin's ``Shutdown``.
* :func:`ignore_interrupts`: a launched plugin ignores SIGINT, as go-plugin's servers do;
  Terraform tells it what to do.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from tf.gen import tfplugin_pb2 as pb
from tf.utils import Diagnostics

INTERRUPTED = "Interrupted"
INTERRUPTED_DETAIL = (
    "Terraform asked the provider to stop (an interrupt such as Ctrl-C), before this call "
    "started: nothing was written for it. Run terraform apply again to finish.")
SHUTDOWN = "/plugin.GRPCController/Shutdown"


def _interrupted(response: type[Any]) -> Any:
    diags = Diagnostics()
    diags.add_error(INTERRUPTED, INTERRUPTED_DETAIL)
    return response(diagnostics=diags.to_pb())


class StopCalls:
    """Servicer calls that honour ``StopProvider`` (mixed in front of ``tf``'s servicer)."""

    def _stop_event(self) -> threading.Event:
        event: threading.Event | None = getattr(self, "_blocks_stop", None)
        if event is None:
            event = self._blocks_stop = threading.Event()
        return event

    def StopProvider(self, request: Any, context: Any) -> Any:
        self._stop_event().set()
        return pb.StopProvider.Response()

    def ConfigureProvider(self, request: Any, context: Any) -> Any:
        self._stop_event().clear()
        return super().ConfigureProvider(request, context)  # type: ignore[misc]

    def ApplyResourceChange(self, request: Any, context: Any) -> Any:
        if self._stop_event().is_set():
            return _interrupted(pb.ApplyResourceChange.Response)
        return super().ApplyResourceChange(request, context)  # type: ignore[misc]

    def PlanResourceChange(self, request: Any, context: Any) -> Any:
        if self._stop_event().is_set():
            return _interrupted(pb.PlanResourceChange.Response)
        return super().PlanResourceChange(request, context)  # type: ignore[misc]

    def ImportResourceState(self, request: Any, context: Any) -> Any:
        if self._stop_event().is_set():
            return _interrupted(pb.ImportResourceState.Response)
        return super().ImportResourceState(request, context)  # type: ignore[misc]


class ShutdownInterceptor:
    """``tf.runner``'s shutdown interceptor, minus the stop on ``StopProvider``."""

    def __init__(self) -> None:
        self.stopped = False
        self.server: Any = None

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        result = continuation(handler_call_details)
        if handler_call_details.method == SHUTDOWN:
            self.stopped = True
            if self.server is not None:
                self.server.stop(grace=0)
        return result


def ignore_interrupts(argv: list[str]) -> None:
    """Ignore SIGINT in a plugin Terraform launched (``--dev`` keeps Ctrl-C for its user)."""
    if "--dev" not in argv and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
