"""Tracing with OpenTelemetry, when its API is installed (the ``otel`` extra); nothing at all otherwise.

Each attempt of a call is a client span named ``<METHOD> <connection>``, with the connection's name, the
method, the URL and the status code as attributes, and its status an error when it failed or the
answer is 4xx or 5xx. While it is open, ``inject`` writes the W3C ``traceparent`` (and ``tracestate``) header of
the span into a request's headers, through the propagators OpenTelemetry is configured with. With no
tracer provider set and no span active, a call gets the span that does nothing, without asking
OpenTelemetry for one (it would be a non-recording span writing no header). Whether the API is
there is found out once, when this module is imported.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from types import TracebackType
from typing import Any

try:
    from opentelemetry import context as otel_context
    from opentelemetry import propagate, trace
except ImportError:  # the otel extra is not installed: every span is the one that does nothing
    trace = None  # type: ignore[assignment]

from zato_outconn.version import __version__

__all__ = ['ENABLED', 'ClientSpan', 'client_span']

CONNECTION_ATTRIBUTE = 'zato.outconn.connection'
# Whether OpenTelemetry's API could be imported.
ENABLED = trace is not None


class ClientSpan:
    """One call's span: open while the call runs, ended when the ``with`` block is left."""

    __slots__ = ('_span', '_context', '_token')

    def __init__(self, span: Any) -> None:
        self._span = span
        self._context = trace.set_span_in_context(span)
        self._token: object = None

    def __enter__(self) -> ClientSpan:
        # Current while the call runs, so that spans made meanwhile (by urllib3's instrumentation, say)
        # are its children.
        self._token = otel_context.attach(self._context)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            if error is not None:
                # Whether or not an answer came first: an after_receive that raised failed the call.
                self.set_status(None, error)
        finally:
            otel_context.detach(self._token)  # type: ignore[arg-type]
            self._span.end()

    def inject(self, headers: MutableMapping[str, str]) -> None:
        """Write this span's trace context (``traceparent``) into the headers of a request about to be sent."""
        propagate.inject(headers, context=self._context)

    def set_status(self, code: int | None, error: BaseException | None) -> None:
        """The outcome: the status code of the answer (None if none came), and the error the call raised, if any."""
        span = self._span
        if not span.is_recording():
            return
        if code is not None:
            span.set_attribute('http.response.status_code', code)
        if error is not None:
            span.set_attribute('error.type', type(error).__qualname__)
            span.record_exception(error)
            span.set_status(trace.Status(trace.StatusCode.ERROR, f'{type(error).__name__}: {error}'))
        elif code is not None and code >= 400:
            span.set_attribute('error.type', str(code))
            span.set_status(trace.Status(trace.StatusCode.ERROR))


class _NoSpan:
    """What a call gets without OpenTelemetry: a span that does nothing, the same one for every call."""

    __slots__ = ()

    def __enter__(self) -> _NoSpan:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        return None

    def inject(self, headers: MutableMapping[str, str]) -> None:
        return None

    def set_status(self, code: int | None, error: BaseException | None) -> None:
        return None


NO_SPAN = _NoSpan()

if ENABLED:
    # A proxy until the application sets a tracer provider, then that provider's tracer.
    _tracer = trace.get_tracer('zato_outconn', __version__)
    _CLIENT = trace.SpanKind.CLIENT

    _NO_OP_PROVIDERS = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
    _get_current_span = trace.get_current_span

    if hasattr(trace, '_TRACER_PROVIDER'):
        def _no_provider() -> bool:
            # The global that get_tracer_provider reads: that function also looks the OTEL_PYTHON_TRACER_PROVIDER
            # variable up in os.environ on every call while none is set, which costs more than the rest of a span.
            # get_tracer above has already loaded a provider that variable names.
            return trace._TRACER_PROVIDER is None
    else:  # pragma: no cover - an API that keeps its provider elsewhere
        def _no_provider() -> bool:
            return isinstance(trace.get_tracer_provider(), _NO_OP_PROVIDERS)

    def client_span(name: str, method: str, url: str) -> ClientSpan | _NoSpan:
        """The span of one call of connection ``name``; use it as ``with client_span(...) as span:``."""
        # Asked on every call, as an application may set a provider at any time: with none set and no
        # trace to join, the span OpenTelemetry would make records nothing and sends no header.
        if _no_provider() and not _get_current_span().get_span_context().is_valid:
            return NO_SPAN
        span = _tracer.start_span(f'{method} {name}', kind=_CLIENT, attributes={
            CONNECTION_ATTRIBUTE: name, 'http.request.method': method, 'url.full': url})
        if not span.is_recording() and not span.get_span_context().is_valid:
            # No tracer provider and no trace to join: nothing to record and no header to send.
            return NO_SPAN
        return ClientSpan(span)
else:
    def client_span(name: str, method: str, url: str) -> ClientSpan | _NoSpan:
        """The span of one call of connection ``name``: without OpenTelemetry, one that does nothing."""
        return NO_SPAN
