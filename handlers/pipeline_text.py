"""The signal pipeline's own health for /health: continuous evaluation and every event subscriber."""

from __future__ import annotations

from core.bus import SubscriberStats
from core.evaluation import EvaluatorStatus
from handlers.html import esc


def render_pipeline(status: EvaluatorStatus, subscribers: list[SubscriberStats], setup_timeframe: str) -> str:
    lines = [f"\n<b>Signal pipeline</b>: {status.evaluated} evaluations on {esc(setup_timeframe)} closes"
             + (f", {status.not_ready} not ready" if status.not_ready else "")
             + (f", running now: {esc(', '.join(status.running))}" if status.running else "")]
    if status.skipped:
        lines.append(f"🟡 {status.skipped} closes skipped (an evaluation was still running): {esc(status.last_skip)}")
    if status.errors:
        lines.append(f"🔴 {status.errors} evaluations failed; last: {esc(status.last_error)}")
    for sub in subscribers:
        icon = "🟢" if sub.healthy and not sub.errors else "🟡" if sub.healthy else "🔴"
        problems = "".join(f", {n} {what}" for n, what in ((sub.dropped, "dropped"), (sub.errors, "failed")) if n)
        lines.append(f"{icon} {esc(sub.name)}: {sub.delivered} delivered, queue {sub.queue_depth}/{sub.queue_limit}, "
                     f"lag p99 {sub.lag_p99_ms:.1f} ms (max {sub.lag_max_ms:.1f}){problems}")
    return "\n".join(lines)
