"""Local stand-ins for Binance, on 127.0.0.1: a combined-stream websocket server and a klines REST server.

``FakeBinanceWs`` serves frames from the shared recordings under the routed paths (spot
``/stream``; futures depth on ``/public/stream``, aggTrade/klines on ``/market/stream``; a
stream asked for on the wrong path gets nothing, as on Binance), answers SUBSCRIBE, pings its
clients, and on command drops every connection, stalls, or sends garbage / a serverShutdown.

``FakeBinanceRest`` answers ``/api/v3/klines`` and ``/fapi/v1/klines`` from a candle table with
Binance's paging rules, reports ``X-MBX-USED-WEIGHT-1M``, and plays scripted failures.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson
from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection, serve

from core.feeds.recording import read_frames

FUTURES_PUBLIC = ("depth",)  # stream kinds routed to /public on futures


def frames_by_stream(paths: Iterable[Path], rename: dict[str, str] | None = None) -> dict[str, list[bytes]]:
    """Recorded frames grouped by stream name (optionally renamed, e.g. diff depth -> depth20)."""
    out: dict[str, list[bytes]] = defaultdict(list)
    for path in paths:
        for record in read_frames(path):
            if not record.frame.startswith(b'{"stream":"'):
                continue
            stream = orjson.loads(record.frame)["stream"]
            frame = record.frame
            if rename and stream in rename:
                frame = frame.replace(f'"stream":"{stream}"'.encode(), f'"stream":"{rename[stream]}"'.encode(), 1)
                stream = rename[stream]
            out[stream].append(frame)
    return dict(out)


def expected_path(stream: str, futures: set[str]) -> str:
    symbol, _, suffix = stream.partition("@")
    if symbol not in futures:
        return "/stream"
    return "/public/stream" if suffix.startswith(FUTURES_PUBLIC) else "/market/stream"


class FakeBinanceWs:
    def __init__(self, frames: dict[str, list[bytes]], *, futures_symbols: Iterable[str] = ("sushiusdt",),
                 frame_interval_s: float = 0.002, ping_interval_s: float = 0.05) -> None:
        self.frames = frames
        self.futures = {s.lower() for s in futures_symbols}
        self.frame_interval_s = frame_interval_s
        self.ping_interval_s = ping_interval_s
        self.paths: list[str] = []
        self.subscribe_requests: list[list[str]] = []
        self.connections: list[ServerConnection] = []
        self.sent = 0
        self._stalled: set[ServerConnection] = set()
        self._garbage: list[bytes | str] = []
        self._server: Server | None = None
        self.url = ""

    async def __aenter__(self) -> FakeBinanceWs:
        self._server = await serve(self._handle, "127.0.0.1", 0, ping_interval=self.ping_interval_s,
                                   ping_timeout=1.0, compression=None)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    # ------------------------------------------------------------------ commands

    def drop_all(self) -> None:
        for ws in list(self.connections):
            ws.transport.abort()

    def stall(self) -> None:
        """Stop sending on every open connection (new connections are served normally)."""
        self._stalled.update(self.connections)

    def send_garbage(self, *frames: bytes | str) -> None:
        self._garbage.extend(frames)

    def open_connections(self) -> int:
        return sum(1 for ws in self.connections if ws.state.name == "OPEN")

    # ------------------------------------------------------------------ protocol

    async def _handle(self, ws: ServerConnection) -> None:
        request = urlsplit(ws.request.path)
        self.paths.append(ws.request.path)
        names = parse_qs(request.query).get("streams", [""])[0]
        streams = [s for s in names.split("/") if s]
        active = [s for s in streams if expected_path(s, self.futures) == request.path]
        self.connections.append(ws)
        sender = asyncio.create_task(self._send_loop(ws, active))
        try:
            async for message in ws:
                request_body = orjson.loads(message)
                if request_body.get("method") == "SUBSCRIBE":
                    params = list(request_body.get("params", []))
                    self.subscribe_requests.append(params)
                    active.extend(s for s in params if expected_path(s, self.futures) == request.path)
                    await ws.send(orjson.dumps({"result": None, "id": request_body.get("id")}).decode())
        except Exception:
            pass
        finally:
            sender.cancel()
            self.connections.remove(ws)
            self._stalled.discard(ws)

    async def _send_loop(self, ws: ServerConnection, active: list[str]) -> None:
        cursors: dict[str, itertools.cycle] = {}
        while True:
            for stream in list(active):
                while ws in self._stalled:
                    await asyncio.sleep(0.01)
                while self._garbage:
                    await ws.send(self._garbage.pop(0))
                if stream not in self.frames:
                    continue
                cursor = cursors.setdefault(stream, itertools.cycle(self.frames[stream]))
                await ws.send(next(cursor).decode())
                self.sent += 1
                await asyncio.sleep(self.frame_interval_s)
            await asyncio.sleep(self.frame_interval_s)


# ---------------------------------------------------------------------------- REST


class FakeBinanceRest:
    """Klines from ``rows`` (12-field Binance arrays, oldest first), per (market, symbol, interval)."""

    def __init__(self, tables: dict[tuple[str, str, str], list[list]], *, weight_start: int = 0) -> None:
        self.tables = tables
        self.calls: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.weight = weight_start
        self.script: list[tuple[int, dict[str, str], float]] = []  # (status, headers, delay_s) to play first
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeBinanceRest:
        app = web.Application()
        app.router.add_get("/api/v3/klines", self._klines)
        app.router.add_get("/fapi/v1/klines", self._klines)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _klines(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.calls.append(query)
        self.paths.append(request.path)
        if self.script:
            status, headers, delay_s = self.script.pop(0)
            if delay_s:
                await asyncio.sleep(delay_s)
            if status != 200:
                body = {"code": -1003, "msg": "Too many requests; current limit is 6000 request weight per 1 "
                                              "MINUTE."} if status in (418, 429) else {"code": -1, "msg": "x"}
                return web.json_response(body, status=status, headers=headers)
        spot = request.path.startswith("/api/")
        market = "spot" if spot else "futures"
        table = self.tables.get((market, query["symbol"], query["interval"]))
        if table is None:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        limit = min(int(query.get("limit", 500)), 1000 if spot else 1500)
        start = int(query["startTime"]) if "startTime" in query else None
        end = int(query["endTime"]) if "endTime" in query else None
        rows = [r for r in table if (start is None or r[0] >= start) and (end is None or r[0] <= end)]
        rows = rows[:limit] if start is not None else rows[-limit:]
        self.weight += 2
        return web.json_response(rows, headers={"X-MBX-USED-WEIGHT-1M": str(self.weight)})


def kline_rows(candles: list[tuple[int, float, float, float, float, float]], interval_ms: int) -> list[list]:
    """Binance 12-field rows (strings for decimals, as Binance sends) from (open_ms, o, h, l, c, v)."""
    return [[t, f"{o:.8f}", f"{h:.8f}", f"{lo:.8f}", f"{c:.8f}", f"{v:.8f}", t + interval_ms - 1,
             f"{v * c:.8f}", 100 + i, f"{v / 2:.8f}", f"{v * c / 2:.8f}", "0"]
            for i, (t, o, h, lo, c, v) in enumerate(candles)]
