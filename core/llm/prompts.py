"""The screener's and the validator's prompts: fixed instructions first (so a provider's prompt cache
can reuse them), the market summary last. Both ask for JSON in words too, for servers that ignore
a JSON schema. Nothing here knows the account, the user or the chat: prompts carry market facts only.
"""

from __future__ import annotations

from core.llm.ports import Prompt, Stage
from core.llm.verdicts import SCREENER_SCHEMA, VALIDATOR_SCHEMA, Screening

LEGEND = ("Legend: pa price action, mom momentum, vol volume, sr support/resistance, flow order flow "
          "(component scores -1..+1); tf rows: rsi, macd (+ bullish, - bearish, x cross), trend, atr, vz volume "
          "z-score; zones R/S low-high, distance from price, s score 0-100, t touches, timeframes; imb book "
          "imbalance -1..+1; buy% share of aggressive buying; micro short-horizon momentum; basis broker vs feed.")

SCREENER_INSTRUCTIONS = (
    "You screen mechanical trade setups for a trading assistant. A rules engine built the plan below from "
    "price action, momentum across timeframes, volume, support/resistance zones and order flow. Judge whether "
    "the setup deserves a trader's attention now.\n"
    "STRONG: evidence agrees across timeframes and flow, the stop sits beyond real structure, targets are "
    "reachable before the next strong opposing zone.\n"
    "WEAK: mixed or thin evidence, a stop inside noise, or an opposing zone or flow in the way.\n"
    "NEUTRAL: no edge either way, or too little data.\n"
    "confidence: 0-100, how sure you are of the verdict. reasons: 2-3 short reasons (under 20 words each) "
    "naming the numbers that matter.\n"
    'Reply with JSON only: {"verdict":"STRONG|WEAK|NEUTRAL","confidence":0-100,"reasons":["..."]}\n' + LEGEND)

VALIDATOR_INSTRUCTIONS = (
    "You are the second, deeper check of a trade setup that a fast screener called STRONG. A trader decides; "
    "you advise.\n"
    "decision: EXECUTE (take it now as planned), WAIT (a valid idea that needs a better entry or "
    "confirmation), REJECT (the evidence or the risk does not support it).\n"
    "reasoning: 2-4 sentences, decisive evidence first. invalidation_price: the price that would prove the "
    "trade wrong. risks: up to 3 short risk scenarios.\n"
    "entry, stop, target: a better level only when clearly justified, else null. A stop must stay on the "
    "protective side of the entry and reward to target must be at least the plan's min R:R, or the "
    "suggestion is dropped.\n"
    'Reply with JSON only: {"decision":"EXECUTE|WAIT|REJECT","reasoning":"...","invalidation_price":number|null,'
    '"risks":["..."],"entry":number|null,"stop":number|null,"target":number|null}\n' + LEGEND)


def screener_prompt(summary: str, *, max_output_tokens: int) -> Prompt:
    return Prompt(Stage.SCREENER, SCREENER_INSTRUCTIONS, summary, "screen", SCREENER_SCHEMA, max_output_tokens)


def validator_prompt(summary: str, screening: Screening, *, max_output_tokens: int) -> Prompt:
    reasons = "; ".join(screening.reasons)
    user = f"{summary}\nscreener {screening.verdict.value} {screening.confidence:.0f}: {reasons}"
    return Prompt(Stage.VALIDATOR, VALIDATOR_INSTRUCTIONS, user, "validation", VALIDATOR_SCHEMA, max_output_tokens)
