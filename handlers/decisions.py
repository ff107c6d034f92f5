"""What a trader sees after EXECUTE / WAIT / REJECT: the short alert and the card's status block."""

from __future__ import annotations

from core.approvals import ApprovalState
from core.market.symbols import SymbolMap
from core.models import DataSource
from core.trading import DecisionResult, Outcome
from handlers.html import esc
from handlers.trade_text import data_badge, price_text

_ALREADY = {
    ApprovalState.EXECUTED: "Already executed (ticket {ticket}); nothing new was placed.",
    ApprovalState.EXECUTING: "Already being executed; nothing new was placed.",
    ApprovalState.EXPIRED: "This card expired; nothing was executed. Run /analyse again.",
    ApprovalState.REJECTED: "This card was rejected.",
    ApprovalState.WAITING: "This signal is waiting for a re-check.",
}


def decision_alert(result: DecisionResult) -> str:
    """The pop-up answer to the button (at most 200 characters, plain text)."""
    outcome = result.outcome
    if outcome is Outcome.EXECUTED and result.fill is not None:
        text = f"Placed: ticket {result.fill.ticket}"
    elif outcome is Outcome.REFUSED:
        text = f"Not placed: {result.reason}"
    elif outcome is Outcome.FAILED:
        text = f"Broker refused: {result.reason}"
    elif outcome is Outcome.UNCONFIRMED:
        text = "The broker did not confirm; I will check and report."
    elif outcome is Outcome.REJECTED:
        text = "Rejected and recorded."
    elif outcome is Outcome.WAITING:
        text = "Waiting; I will re-check it."
    elif outcome is Outcome.UNKNOWN_CARD:
        text = "This signal is unknown; nothing was done."
    elif outcome is Outcome.OTHER_CHAT:
        text = "This card belongs to another chat; nothing was done."
    elif outcome is Outcome.DUPLICATE_ORDER:
        text = "An order for this card already exists; nothing new was placed."
    else:
        text = _already(result)
    return text[:200]


def _already(result: DecisionResult) -> str:
    approval = result.approval
    if approval is None:
        return "This signal is unknown; nothing was done."
    template = _ALREADY.get(approval.state)
    if template is not None:
        return template.format(ticket=approval.ticket)
    return f"This card is {approval.state.value}: {approval.note or 'closed'}."


def status_block(result: DecisionResult, symbol_map: SymbolMap, source: DataSource) -> str:
    """The line appended to the card when its state changed (buttons go at the same time)."""
    outcome = result.outcome
    if outcome is Outcome.EXECUTED and result.fill is not None:
        fill = result.fill
        text = (f"✅ <b>EXECUTED: ticket {fill.ticket}, {fill.direction.value} {fill.volume:g} {esc(fill.symbol)} "
                f"@ {price_text(symbol_map, fill.symbol, fill.price)}</b>{data_badge(source)}")
    elif outcome is Outcome.REFUSED:
        text = f"🛑 <b>NOT PLACED: {esc(result.reason)}</b>"
    elif outcome is Outcome.FAILED:
        text = f"⚠️ <b>NOT PLACED: {esc(result.reason)}</b>"
    elif outcome is Outcome.REJECTED:
        text = f"❌ <b>REJECTED by {result.by_user_id}</b>"
    elif outcome is Outcome.WAITING:
        text = (f"⏳ <b>WAIT: I will re-check up to {result.wait_checks} times over {result.wait_window_min} min "
                "(sooner if price reaches the entry) and send a fresh card if it still holds</b>")
    else:
        return ""
    return "\n\n" + text


def expired_block() -> str:
    return "\n\n⌛ <b>EXPIRED: not answered in time; nothing was executed.</b>"
