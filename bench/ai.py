"""Benchmark: /ai against the local scripted OpenAI-compatible server with a fixed 300 ms model latency.

- Time to the regular card: update in -> the card's sendMessage, for /ai and for /analyse on the
  same market (the AI must not delay the card: the two p95 within 10 ms).
- Orchestration overhead: card sent -> card edited with the verdicts, minus the server's own time
  per request (the model's 300 ms and its HTTP handling): the screening task, prompt building, the
  openai client, budget checks, parsing, the approval and card reads, the edit (ledger rows are
  written just after). Target p95 < 20 ms.
- The screener prompt size in tokens (cl100k) on the seven default symbols. Target < 1,200.
Last line: ``ai_overhead_p95_ms=<x>``.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram.methods import EditMessageText, SendMessage  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.console import ConsoleSession, ConsoleUser  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.telegram import make_bot  # noqa: E402
from core.llm.prompts import screener_prompt  # noqa: E402
from core.llm.summary import SummaryContext, market_summary  # noqa: E402
from core.ports import FixedClock  # noqa: E402
from tests.llm.openai_server import Reply, ScriptedOpenAI, answer  # noqa: E402
from tests.llm.tokens import prompt_tokens  # noqa: E402

RUNS = 60
MODEL_LATENCY_S = 0.300
SYMBOLS = ("BTCUSD", "XAUUSD", "EURUSD", "GBPUSD")
LOOSE = {"signal.direction_threshold": 0, "signal.min_risk_reward": 0.5,
         "risk.min_confidence": 0, "bot.reply_chart": False, "ai.daily_budget_usd": 1000,
         "ai.monthly_budget_usd": 10000}
STRONG = {"verdict": "STRONG", "confidence": 85, "reasons": ["trend aligned", "support below"]}
EXECUTE = {"decision": "EXECUTE", "reasoning": "Structure and flow agree.", "invalidation_price": None,
           "risks": ["reversal"], "entry": None, "stop": None, "target": None}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class TimedSession(ConsoleSession):
    """The console session, noting when each Bot API method was sent."""

    def __init__(self, files_dir: Path) -> None:
        super().__init__(io.StringIO(), files_dir)
        self.sent: list[tuple[type, float]] = []

    async def make_request(self, bot, method, timeout=None):
        self.sent.append((type(method), time.perf_counter()))
        return await super().make_request(bot, method, timeout)

    def first(self, kind: type, after: float) -> float:
        return next(t for k, t in self.sent if k is kind and t >= after)


class TimedServer(ScriptedOpenAI):
    """The scripted server, adding up how long it held each request (the model's share)."""

    def __init__(self) -> None:
        super().__init__(latency_s=MODEL_LATENCY_S, default=self._reply)
        self.held_s = 0.0

    @staticmethod
    def _reply(request: dict) -> Reply:
        return answer(STRONG if request["model"] == "gpt-4o-mini" else EXECUTE, prompt=900, completion=80)

    async def _completions(self, request):
        start = time.perf_counter()
        try:
            return await super()._completions(request)
        finally:
            self.held_s += time.perf_counter() - start


async def main() -> None:
    server = await TimedServer().start()
    data_dir = Path(tempfile.mkdtemp(prefix="moneybot-bench-ai-"))
    settings = load_settings({"MONEYBOT_DATA_DIR": str(data_dir), "MARKET_FEED": "sim", "TELEGRAM_ADMIN_IDS": "1",
                              "OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": server.base_url,
                              "LLM_SCREENER_MODEL": "gpt-4o-mini", "LLM_VALIDATOR_MODEL": "gpt-5"})
    clock = FixedClock(1_763_000_000_000)
    session = TimedSession(data_dir / "photos")
    bot = make_bot("1000:bench", session=session)
    runtime = await build_runtime(settings, bot, clock=clock, run_jobs=False)
    try:
        feed = runtime.services.market_feed
        for _ in range(600):  # ten simulated minutes of tape and book
            feed.run_until(feed.simulator.now_ms + 1000)
            clock.set(feed.simulator.now_ms)
        for name, value in LOOSE.items():
            runtime.tunables.set(name, value)
        dp = runtime.dispatcher()
        user = ConsoleUser(1)
        for symbol in SYMBOLS:  # warm-up: imports, zone memo, the HTTP connection
            await dp.feed_update(bot, user.text_update(f"/analyse {symbol}"))
            await dp.feed_update(bot, user.text_update(f"/ai {symbol}"))
        analyse_card, ai_card, overhead, calls_per_run = [], [], [], []
        for i in range(RUNS):
            symbol = SYMBOLS[i % len(SYMBOLS)]
            for command in ("analyse", "ai"):
                feed.steps(10)  # a fresh market: a new prompt each time, no cache hits
                clock.set(feed.simulator.now_ms)
                held_before, hits_before = server.held_s, server.hits()
                start = time.perf_counter()
                await dp.feed_update(bot, user.text_update(f"/{command} {symbol}"))
                card_at = session.first(SendMessage, start)
                if command == "analyse":
                    analyse_card.append((card_at - start) * 1000)
                    continue
                ai_card.append((card_at - start) * 1000)
                edited_at = session.first(EditMessageText, card_at)
                overhead.append((edited_at - card_at - (server.held_s - held_before)) * 1000)
                calls_per_run.append(server.hits() - hits_before)
        sizes = {}
        symbol_map, service = runtime.services.symbol_map, runtime.services.analysis_service
        for symbol in symbol_map.symbols():
            summary = market_summary(service.analyse(symbol), SummaryContext(symbol_map.spec(symbol).price_digits))
            sizes[symbol] = prompt_tokens(screener_prompt(summary, max_output_tokens=300))
    finally:
        await runtime.close()
        await server.stop()
    gap = pct(ai_card, 0.95) - pct(analyse_card, 0.95)
    print(f"{RUNS} runs each of /analyse and /ai over {', '.join(SYMBOLS)}, model latency "
          f"{MODEL_LATENCY_S * 1000:.0f} ms, {statistics.fmean(calls_per_run):.1f} model calls per /ai:")
    print(f"  time to card  /analyse p50 {pct(analyse_card, 0.5):.2f} p95 {pct(analyse_card, 0.95):.2f} ms · "
          f"/ai p50 {pct(ai_card, 0.5):.2f} p95 {pct(ai_card, 0.95):.2f} ms · p95 gap {gap:+.2f} ms "
          f"(target within 10 ms)")
    print(f"  AI orchestration overhead (model time excluded) p50 {pct(overhead, 0.5):.2f} "
          f"p95 {pct(overhead, 0.95):.2f} max {max(overhead):.2f} ms (target p95 < 20 ms)")
    print("  screener prompt tokens (cl100k): " + ", ".join(f"{s} {n}" for s, n in sizes.items())
          + f"; max {max(sizes.values())} (target < 1,200)")
    print(f"ai_card_gap_p95_ms={gap:.2f}")
    print(f"ai_prompt_tokens_max={max(sizes.values())}")
    print(f"ai_overhead_p95_ms={pct(overhead, 0.95):.2f}")


if __name__ == "__main__":
    asyncio.run(main())
