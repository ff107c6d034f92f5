"""`moneybot`: run the bot (Telegram, any Bot API server, or the terminal console)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings

log = logging.getLogger("moneybot")
CONSOLE_ADMIN_ID = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moneybot", description="MoneyBot trading assistant")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot: Telegram when TELEGRAM_BOT_TOKEN is set, else the console")
    chat = sub.add_parser("chat", help="the terminal console on the same dispatcher")
    chat.add_argument("--user-id", type=int, default=CONSOLE_ADMIN_ID,
                      help="act as this Telegram user id (default: a console admin)")
    chat.add_argument("--linger", type=float, default=0.0, metavar="SECONDS",
                      help="after end of input keep running this long to print pushed messages")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "current"])
    record = sub.add_parser("record", help="record live Binance frames to a file")
    record.add_argument("--symbols", required=True, help="comma-separated trader symbols, e.g. BTCUSD,XAUUSD")
    record.add_argument("--minutes", type=float, required=True)
    record.add_argument("file")
    from bot.backtest_cli import add_parser as add_backtest

    add_backtest(sub)
    return parser


def _setup_logging(settings: Settings, *, console: bool) -> None:
    level = getattr(logging, settings.log_level)
    handlers: list[logging.Handler] = []
    if console:  # the terminal is the chat: detail goes to a file, only warnings to stderr
        settings.moneybot_data_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(settings.moneybot_data_dir / "moneybot.log"))
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setLevel(logging.WARNING)
        handlers.append(stderr)
    else:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(level=level, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)


async def _chat(settings: Settings, *, user_id: int, linger_s: float, banner: str) -> int:
    from bot.console import ConsoleSession, run_console
    from bot.runtime import build_runtime
    from bot.telegram import make_bot

    extra = (CONSOLE_ADMIN_ID,) if user_id == CONSOLE_ADMIN_ID else ()
    session = ConsoleSession(sys.stdout, settings.moneybot_data_dir / "photos")
    bot = make_bot("1000:console", session=session)
    runtime = await build_runtime(settings, bot, extra_admin_ids=extra)
    try:
        dp = runtime.dispatcher()
        return await run_console(dp, bot, session, user_id=user_id, linger_s=linger_s, banner=banner)
    finally:
        await runtime.close()


async def _telegram(settings: Settings) -> int:
    from bot.runtime import build_runtime
    from bot.telegram import make_bot, set_command_menus

    bot = make_bot(settings.telegram_bot_token, api_base=settings.telegram_api_base)
    try:
        runtime = await build_runtime(settings, bot)
    except BaseException:
        await bot.session.close()
        raise
    try:
        dp = runtime.dispatcher()
        await set_command_menus(bot, runtime.users, dp["enabled_commands"])
        if settings.telegram_webhook_url:
            return await _serve_webhook(settings, dp, bot)
        log.info("long polling %s", settings.telegram_api_base or "api.telegram.org")
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(bot, handle_signals=True, close_bot_session=False)
        return 0
    finally:
        await bot.session.close()
        await runtime.close()


async def _serve_webhook(settings: Settings, dp, bot) -> int:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web

    secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
    app = web.Application()
    path = "/" + settings.telegram_webhook_url.split("://", 1)[1].split("/", 1)[-1] \
        if "/" in settings.telegram_webhook_url.split("://", 1)[1] else "/webhook"
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(app, path=path)
    setup_application(app, dp, bot=bot)
    await bot.set_webhook(settings.telegram_webhook_url, secret_token=secret, drop_pending_updates=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    log.info("webhook %s serving on %s:%s%s", settings.telegram_webhook_url, settings.webhook_host,
             settings.webhook_port, path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await bot.delete_webhook()
        await runner.cleanup()
    return 0


async def _db(settings: Settings, action: str) -> int:
    from db.engine import make_engine, redact_url
    from db.migrate import current_revision, head_revision, upgrade

    engine = make_engine(settings.async_database_url)
    try:
        if action == "upgrade":
            revision = await upgrade(engine)
            print(f"database {redact_url(settings.async_database_url)} is at revision {revision} (head)")
        else:
            print(f"current {await current_revision(engine) or '(empty)'}; head {head_revision()}")
    finally:
        await engine.dispose()
    return 0


async def _record(settings: Settings, symbols: str, minutes: float, path: str) -> int:
    from bot.services import record_frames

    return await record_frames(settings, symbols.split(","), minutes, Path(path))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command == "backtest":  # offline: needs no bot settings
        from bot.backtest_cli import main as backtest_main

        return backtest_main(args)
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"moneybot: configuration error: {e}", file=sys.stderr)
        return 2
    console = command == "chat" or (command == "run" and not settings.telegram_bot_token)
    _setup_logging(settings, console=console)
    try:
        if command == "db":
            return asyncio.run(_db(settings, args.action))
        if command == "record":
            return asyncio.run(_record(settings, args.symbols, args.minutes, args.file))
        if console:
            banner = ""
            if command == "run":
                banner = ("MoneyBot console: no TELEGRAM_BOT_TOKEN set, so running in this terminal on the "
                          "embedded defaults (paper broker, SQLite under "
                          f"{settings.moneybot_data_dir}). Type /help; !N presses button N; Ctrl-D quits.")
            user_id = getattr(args, "user_id", CONSOLE_ADMIN_ID)
            return asyncio.run(_chat(settings, user_id=user_id, linger_s=getattr(args, "linger", 0.0),
                                     banner=banner))
        return asyncio.run(_telegram(settings))
    except ConfigError as e:
        print(f"moneybot: configuration error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
