"""Optional Prometheus metrics (``focus-coach run --metrics-port``): /status's figures, scraped.

Needs the extra ``metrics`` (prometheus-client). The figures are gathered on each scrape by a
custom collector from the same ``OperatorView`` as /status, so nothing is computed per dialogue
step; a scrape costs what /status costs (listing the user files: about 0.3 s at 100,000 users).
Counters are the totals since the process started (Prometheus counters only grow; ``rate()``
and ``increase()`` make windows of them); the rest are gauges.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from bot.core.operations import Event

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client.metrics_core import Metric

    from bot.config import MetricsSettings
    from bot.core.operator_status import OperatorView

__all__ = ["INSTALL_HINT", "PREFIX", "MetricsServer", "metrics_available"]

PREFIX: Final = "focus_coach_"
INSTALL_HINT: Final = "pip install 'focus-coach[metrics]'"

# Counter name (without prefix and _total) and help text per counted event.
_COUNTERS: Final = {
    Event.SENT: ("messages_sent", "Bot API calls that sent or edited a message"),
    Event.RETRIED: ("retries", "Sending calls made again after a 429"),
    Event.RATE_LIMITED: ("rate_limited", "429 (RetryAfter) answers from Telegram"),
    Event.FAILED: ("send_failures", "Sending calls given up (429s beyond the retries, errors)"),
    Event.CHECKIN_SENT: ("checkins_sent", "Check-ins and follow-ups delivered"),
    Event.CHECKIN_FAILED: ("checkin_failures", "Check-ins given back to be tried again"),
}


def metrics_available() -> bool:
    """Whether prometheus-client is installed."""
    return importlib.util.find_spec("prometheus_client") is not None


class _StatusCollector:
    """Gathers the figures when Prometheus scrapes (in the metrics server's thread)."""

    def __init__(self, view: OperatorView) -> None:
        self.view = view

    def describe(self) -> list[Metric]:
        """Nothing up front: registering must not gather the figures."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Every figure as a Prometheus metric."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily

        figures = self.view.figures()
        operations = figures.operations
        yield InfoMetricFamily(
            f"{PREFIX}build", "Fokus-Coach version", {"version": figures.version}
        )
        for event, (name, documentation) in _COUNTERS.items():
            yield CounterMetricFamily(
                f"{PREFIX}{name}", documentation, value=operations.totals[event]
            )
        yield GaugeMetricFamily(
            f"{PREFIX}start_time_seconds",
            "When the process started (Unix time)",
            value=operations.started_at.timestamp(),
        )
        yield GaugeMetricFamily(
            f"{PREFIX}uptime_seconds",
            "Seconds since the process started",
            value=operations.uptime.total_seconds(),
        )
        if figures.users is not None:
            users = GaugeMetricFamily(
                f"{PREFIX}users", "Stored users by standing", labels=["state"]
            )
            users.add_metric(["active"], figures.users.active)
            users.add_metric(["paused"], figures.users.paused)
            users.add_metric(["blocked"], figures.users.blocked)
            yield users
        if figures.due_next_hour is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}checkins_due_next_hour",
                "Users with a check-in (or follow-up) due within the next hour",
                value=figures.due_next_hour,
            )
        if figures.last_tick_at is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}last_tick_timestamp_seconds",
                "When the dispatcher's last tick ended (Unix time)",
                value=figures.last_tick_at.timestamp(),
            )
        yield GaugeMetricFamily(
            f"{PREFIX}rate_limiter_queue",
            "Sending calls waiting for the rate limiter right now",
            value=figures.queue,
        )


class MetricsServer:
    """The /metrics HTTP endpoint in a daemon thread, with its own registry."""

    def __init__(self, view: OperatorView, settings: MetricsSettings) -> None:
        self.view = view
        self.settings = settings
        self._server: WSGIServer | None = None

    def start(self) -> None:
        """Listen; OSError if the address or port cannot be used."""
        from prometheus_client import CollectorRegistry, start_http_server

        registry = CollectorRegistry(auto_describe=False)
        registry.register(_StatusCollector(self.view))
        server, _thread = start_http_server(
            self.settings.port, addr=self.settings.listen, registry=registry
        )
        self._server = server

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
