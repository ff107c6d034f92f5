"""The scheduler, configured in one place: APScheduler jobs on the bot's loop.

Every job is a thin function in ``jobs/`` given its dependencies here; none overlaps itself
(``max_instances=1``), missed runs coalesce, and a job that raises is logged by APScheduler and
the next run goes ahead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.container import Services
from jobs import market as market_jobs
from jobs import trading as trading_jobs


def jobs_for(services: Services) -> list[tuple[Any, float, dict[str, Any]]]:
    """(function, every N seconds, keyword arguments) for each scheduled job."""
    every: list[tuple[Any, float, dict[str, Any]]] = [
        (trading_jobs.expire_cards, 5, {"trading": services.trading}),
        (trading_jobs.recheck_waiting_cards, 10, {"rechecks": services.wait_rechecks}),
        (trading_jobs.check_daily_loss, 30, {"trading": services.trading}),
        (trading_jobs.check_feed_health, 1, {"watch": services.health_watch}),
        (trading_jobs.advance_market, 1, {"market": services.market}),
    ]
    if services.candle_repairer is not None:  # HTF candles refreshed from REST on close, gaps repaired
        every.append((market_jobs.repair_candles, 5, {"repairer": services.candle_repairer}))
    if services.broker.capabilities.prices_from_feed:
        every.append((trading_jobs.feed_prices_to_positions, 1, {"portfolio": services.portfolio,
                                                                 "market": services.market}))
    else:
        every.append((trading_jobs.poll_positions, 2, {"portfolio": services.portfolio}))
        # closes the server made whose deals were not in the history yet: asked again until they are
        every.append((trading_jobs.confirm_closes, 5, {"portfolio": services.portfolio}))
        # the MT5 price basis: a pair every second from the first second, so EXECUTE can trade soon after start
        every.append((trading_jobs.record_broker_quotes, 1, {"price_sync": services.price_sync,
                                                             "broker": services.broker, "market": services.market}))
    return every


START_AT_ONCE = {trading_jobs.record_broker_quotes}  # first run now, not one interval after start


def start_scheduler(services: Services) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    for func, seconds, kwargs in jobs_for(services):
        first = {"next_run_time": datetime.now(UTC)} if func in START_AT_ONCE else {}
        scheduler.add_job(func, "interval", seconds=seconds, kwargs=kwargs, max_instances=1, coalesce=True,
                          misfire_grace_time=30, id=func.__name__, **first)
    scheduler.start()
    return scheduler
