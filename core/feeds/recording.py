"""Recordings of raw Binance frames: the line format, its reader, the ``Recorder`` and ``record``.

Line format (the hftbacktest collector's, used by ../shared/data/binance): one frame per line,
``<receive_time_ns> <raw frame JSON>``, gzip-compressed when the file name ends in ``.gz``.
The reader also understands cryptofeed's capture format (first line ``<url> <-> <connect_s>``,
then ``<receive_s_float>: <frame>``, REST lines ``<url> -> <receive_s_float>: <body>``), whose
REST lines it skips.
"""

from __future__ import annotations

import asyncio
import gzip
import heapq
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from core.feeds.binance_endpoints import BinanceEndpoints
from core.feeds.binance_ws import BinanceWsFeed, WsParams
from core.market.health import FeedHealth
from core.market.symbols import BinanceMarket, SymbolMap
from core.ports import Clock, FeedHealthSink


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    recv_ns: int
    frame: bytes
    source: int = 0  # index of the file it came from (for merged reads)


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


def market_of_recording(path: Path | str) -> BinanceMarket:
    """Futures for files whose name or first line says USD-M (``usdm``, ``futures``, ``fstream``)."""
    path = Path(path)
    name = path.name.lower()
    if "usdm" in name or "futures" in name:
        return BinanceMarket.FUTURES
    with _open(path) as f:
        first = f.readline(4096)
    return BinanceMarket.FUTURES if b"fstream" in first else BinanceMarket.SPOT


def read_frames(path: Path | str, source: int = 0) -> Iterator[RecordedFrame]:
    """Every websocket frame of a recording, in file order (a small line parser)."""
    path = Path(path)
    with _open(path) as f:
        first = f.readline()
        if b" <-> " in first:  # cryptofeed capture: the header names the websocket URL
            yield from _cryptofeed_lines(f, source)
            return
        yield from _plain_lines(_chain_first(first, f), source)


def _chain_first(first: bytes, rest: IO[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _plain_lines(lines: Iterable[bytes], source: int) -> Iterator[RecordedFrame]:
    for line in lines:
        head, _, frame = line.partition(b" ")
        if not frame or not head.isdigit():
            continue  # a blank or torn line
        yield RecordedFrame(int(head), frame.rstrip(b"\r\n"), source)


def _cryptofeed_lines(lines: Iterable[bytes], source: int) -> Iterator[RecordedFrame]:
    for line in lines:
        head, sep, frame = line.partition(b": ")
        if not sep or b" -> " in head:
            continue  # REST lines: "<url> -> <time>: <body>"
        try:
            seconds = float(head)
        except ValueError:
            continue
        yield RecordedFrame(round(seconds * 1e9), frame.rstrip(b"\r\n"), source)


def merge_recordings(paths: Sequence[Path | str]) -> Iterator[RecordedFrame]:
    """Frames of several recordings merged by receive time (stable within a file)."""
    streams = [read_frames(path, index) for index, path in enumerate(paths)]
    return heapq.merge(*streams, key=lambda f: f.recv_ns)


class Recorder:
    """Writes frames as received, in the line format (gzip when the name ends in ``.gz``)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        raw: IO[bytes] = gzip.open(self.path, "wb") if self.path.suffix == ".gz" else self.path.open("wb")
        self._file = io.BufferedWriter(raw) if not isinstance(raw, io.BufferedIOBase) else raw
        self.frames = 0

    def write(self, frame: bytes | str, recv_ns: int) -> None:
        data = frame.encode() if isinstance(frame, str) else bytes(frame)
        if b"\n" in data:
            data = data.replace(b"\r", b"").replace(b"\n", b"")  # JSON whitespace only; keep one line
        self._file.write(b"%d %s\n" % (recv_ns, data))
        self.frames += 1

    def tap(self, frame: bytes, recv_ms: int) -> None:
        """A ``FrameTap`` for ``BinanceWsFeed`` (receive time at ms resolution)."""
        self.write(frame, recv_ms * 1_000_000)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def record(symbols: Sequence[str], minutes: float, path: Path | str, *, symbol_map: SymbolMap,
                 clock: Clock, endpoints: BinanceEndpoints = BinanceEndpoints(),
                 health: FeedHealthSink | None = None, params: WsParams | None = None) -> int:
    """Body of ``moneybot record --symbols ... --minutes N FILE``: returns the frames written.

    ``symbols`` are trader symbols (anything ``symbol_map.resolve`` understands); symbols
    without a Binance market are refused with a clear error.
    """
    resolved = []
    for name in symbols:
        symbol = symbol_map.resolve(name)
        if symbol is None or symbol_map.to_binance(symbol) is None:
            raise ValueError(f"{name}: no Binance market to record (known: {', '.join(symbol_map.symbols())})")
        resolved.append(symbol)
    with Recorder(path) as recorder:
        feed = BinanceWsFeed(symbol_map, health or FeedHealth(clock), clock, endpoints=endpoints,
                             params=params or WsParams(), symbols=resolved, frame_tap=recorder.tap)
        await feed.start()
        try:
            await asyncio.sleep(minutes * 60)
        finally:
            await feed.stop()
        return recorder.frames
