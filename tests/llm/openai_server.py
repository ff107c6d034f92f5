"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 (aiohttp), for tests and the benchmark.

The real ``openai`` client talks to it over real HTTP. Each model has a queue of scripted replies
(``script(model, ...)``), consumed one per request; every request is recorded. Replies:
``answer`` (a completion, with usage), ``status`` (an HTTP error, e.g. 500, or 429 with
retry-after), ``hang`` (no answer for a while), or a function of the request returning one of those.
``schema_support=False`` makes it behave like a
local server that rejects ``response_format`` json_schema with a 400.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    status: int = 200
    content: str = ""
    usage: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    refusal: str | None = None
    finish_reason: str = "stop"
    body: dict[str, Any] | None = None  # a raw body instead of a completion


def usage(prompt: int, completion: int, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning}}


def answer(payload: dict[str, Any] | str, *, prompt: int = 900, completion: int = 60, cached: int = 0,
           reasoning: int = 0, delay_s: float = 0.0, local_usage: bool = False) -> Reply:
    """A completion whose content is ``payload`` (a dict is sent as its JSON)."""
    content = payload if isinstance(payload, str) else json.dumps(payload)
    use = ({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
           if local_usage else usage(prompt, completion, cached, reasoning))
    return Reply(content=content, usage=use, delay_s=delay_s)


def status(code: int, message: str = "error", *, headers: dict[str, str] | None = None,
           error_type: str = "server_error", code_name: str | None = None) -> Reply:
    return Reply(status=code, headers=headers or {},
                 body={"error": {"message": message, "type": error_type, "code": code_name}})


def hang(seconds: float) -> Reply:
    return Reply(status=200, content="{}", delay_s=seconds)


Scripted = Reply | Callable[[dict[str, Any]], Reply]


class ScriptedOpenAI:
    def __init__(self, *, schema_support: bool = True, latency_s: float = 0.0, default: Reply | None = None) -> None:
        self.schema_support = schema_support
        self.latency_s = latency_s
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self._queues: dict[str, deque[Scripted]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, model: str, *replies: Scripted) -> None:
        self._queues[model].extend(replies)

    def pending(self, model: str) -> int:
        return len(self._queues[model])

    def hits(self, model: str | None = None) -> int:
        return sum(1 for r in self.requests if model is None or r.get("model") == model)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        if not self.schema_support and (body.get("response_format") or {}).get("type") == "json_schema":
            return web.json_response({"error": {"message": "response_format json_schema is not supported",
                                                "type": "invalid_request_error", "code": None}}, status=400)
        queue = self._queues[body.get("model", "")]
        reply = queue.popleft() if queue else self.default
        if callable(reply):
            reply = reply(body)
        if reply is None:
            return web.json_response({"error": {"message": f"nothing scripted for {body.get('model')}",
                                                "type": "server_error", "code": None}}, status=500)
        await asyncio.sleep(self.latency_s + reply.delay_s)
        if reply.body is not None:
            return web.json_response(reply.body, status=reply.status, headers=reply.headers)
        message: dict[str, Any] = {"role": "assistant", "content": None if reply.refusal else reply.content}
        if reply.refusal:
            message["refusal"] = reply.refusal
        completion = {"id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": 0,
                      "model": body.get("model", "fake"), "choices": [
                          {"index": 0, "finish_reason": reply.finish_reason, "message": message}]}
        if reply.usage is not None:
            completion["usage"] = reply.usage
        return web.json_response(completion, status=reply.status, headers=reply.headers)

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        return app

    async def start(self) -> ScriptedOpenAI:
        self._runner = web.AppRunner(self._app(), shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start_in_thread(self) -> ScriptedOpenAI:
        """Serve from a thread of its own (for tests that run the bot as a subprocess)."""
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.stop())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="scripted-openai", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
