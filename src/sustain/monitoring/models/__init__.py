"""Monitoring: where alerts come from, the alerts themselves and the tokens machines send with.

An alert is one fingerprint of one source: Alertmanager's fingerprint, a heartbeat's or a
probe's own. Its row is unique per (source, fingerprint), so that duplicate and concurrent
deliveries of one alert meet on the database's unique key and open one incident.

The tables live in one module per concern; this package re-exports them all, so callers and
migrations name `sustain.monitoring.models.X` as before.
"""

from sustain.monitoring.models.alerts import (
    Alert,
    AlertEvent,
    MachineToken,
    SeverityMapping,
    Source,
    Window,
)
from sustain.monitoring.models.dashboards import DashboardPin
from sustain.monitoring.models.metrics import (
    HistogramRollupBase,
    HistogramSample,
    HourHistogram,
    HourRollup,
    LateMinute,
    MinuteHistogram,
    MinuteRollup,
    RollupBase,
    RollupCursor,
    Sample,
    Series,
)
from sustain.monitoring.models.rules import (
    RuleState,
    ThresholdRule,
)
from sustain.monitoring.models.scrapes import ScrapeJob
from sustain.monitoring.models.sources import PrometheusSource, PrometheusState
from sustain.monitoring.models.watchers import (
    Heartbeat,
    Ping,
    Probe,
    ProbeResult,
)

__all__ = [
    "Alert",
    "AlertEvent",
    "DashboardPin",
    "Heartbeat",
    "HistogramRollupBase",
    "HistogramSample",
    "HourHistogram",
    "HourRollup",
    "LateMinute",
    "MachineToken",
    "MinuteHistogram",
    "MinuteRollup",
    "Ping",
    "Probe",
    "ProbeResult",
    "PrometheusSource",
    "PrometheusState",
    "RollupBase",
    "RollupCursor",
    "RuleState",
    "Sample",
    "ScrapeJob",
    "Series",
    "SeverityMapping",
    "Source",
    "ThresholdRule",
    "Window",
]
