"""The built-in OpenAI-compatible server (``llmbench sim``), on plain asyncio.

Endpoints
---------
``GET  /v1/models``            lists ``demo`` and every ``--served-name``; chat requests
                               for any other model name are served too.
``POST /v1/chat/completions``  ``stream: true`` (SSE ``chat.completion.chunk`` events, a
                               final usage chunk when ``stream_options.include_usage``,
                               then ``data: [DONE]``) or ``stream: false``.
``GET  /sim/stats``            the engine's truth: tokens emitted, per-request server-side
                               timings, active streams over time. Query: ``chunks=1`` adds
                               each request's chunk times/tokens; ``from_ns=A&to_ns=B`` adds
                               ``window`` = tokens emitted in (A, B] (monotonic ns).
``POST /sim/reset``            forgets the recorded truth.
``GET  /metrics``              Prometheus text format under vLLM's metric names: requests
                               running and waiting, KV-cache usage (running / --max-streams),
                               generation and prompt token counters, finished requests.
``GET  /health``

Answers: the last user message equal to a quality task's prompt gets that task's
reference answer (with ``--reasoning``, or ``{"sim": {"reasoning": true}}`` in the
body, a short ``delta.reasoning_content`` part first). Anything else gets filler
paced by the engine (see ``engine.py``), honouring ``max_tokens`` (or
``max_completion_tokens``), ``ignore_eos`` and ``min_tokens``; ``--natural-length N``
makes filler stop at N tokens unless those two ask for more, and
``--strict-params`` answers HTTP 400 to ``ignore_eos``/``min_tokens`` as a server
that does not know them would. ``stream_options.continuous_usage_stats`` adds a
running ``usage`` to every chunk (as vLLM does).

Fault injection (for tests of clients)
--------------------------------------
Server-wide: ``--fail MODE [--fail-every N]`` (every Nth chat request, default every
one). Per request: ``{"sim": {"fail": MODE}}`` in the JSON body (``extra_body`` in
the OpenAI SDK). MODE is one of:

* ``http500``         HTTP 500 with an OpenAI-style error body, before any stream.
* ``drop_midstream``  the connection is cut after about half of the tokens.
* ``no_usage``        the stream (or response) carries no ``usage``.
* ``stall``           headers and the role chunk are sent, then nothing for
                      ``--stall-s`` seconds (default 600): exercises client timeouts.
* ``empty``           a well-formed stream that carries no tokens at all.

Scripted replies: ``--script FILE`` (a JSON list of ``{"match": regex, "content":
…, "reasoning": …}``) answers any prompt matching a rule with that content, before
task prompts are considered; tests use it to play a judge or a hostile model.

``--instant`` serves every answer at once (an "infinitely fast" server, for
measuring a client's ceiling).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from llmbench.sim.engine import DEFAULT_CURVE, CapacityCurve, Engine, Stream, format_curve
from llmbench.sim.replies import AnswerBook, load_script, plan_answer

FAIL_MODES = ("http500", "drop_midstream", "no_usage", "stall", "empty")
DEFAULT_MAX_TOKENS = 256


@dataclass
class SimConfig:
    host: str = "127.0.0.1"
    port: int = 0
    capacity_curve: tuple = DEFAULT_CURVE
    prefill_tok_s: float = 8000.0
    tokens_per_chunk: int = 1
    reasoning: bool = False
    instant: bool = False
    served_names: tuple[str, ...] = ()
    fail: str | None = None
    fail_every: int = 1
    natural_length: int | None = None
    strict_params: bool = False
    stall_s: float = 600.0
    script: str | None = None       # JSON rules: prompts matching a regex get a fixed reply
    parent_pid: int | None = None   # exit when this process is gone (no orphans)
    max_streams: int | None = None  # requests beyond this many wait for a free slot

    def public(self) -> dict:
        return {
            "capacity_curve": [list(p) for p in CapacityCurve(self.capacity_curve).points],
            "prefill_tok_s": self.prefill_tok_s, "tokens_per_chunk": self.tokens_per_chunk,
            "reasoning": self.reasoning, "instant": self.instant,
            "served_names": ["demo", *self.served_names], "fail": self.fail,
            "fail_every": self.fail_every, "natural_length": self.natural_length,
            "strict_params": self.strict_params, "max_streams": self.max_streams,
        }


class _ClientGone(Exception):
    pass


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _event(obj) -> bytes:
    return _chunked(b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n")


class SimServer:
    def __init__(self, config: SimConfig):
        self.config = config
        self.engine = Engine(CapacityCurve(config.capacity_curve), config.tokens_per_chunk, config.prefill_tok_s)
        self.book = AnswerBook(load_script(config.script) if config.script else ())
        self.chat_requests = 0
        self.slots = asyncio.Semaphore(config.max_streams) if config.max_streams else None
        self.running = self.waiting = 0           # for /metrics
        self.prompt_tokens_total = self.finished_total = 0
        self.server: asyncio.base_events.Server | None = None

    # -- HTTP plumbing ---------------------------------------------------------------
    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                    arrival_ns = time.monotonic_ns()   # the server's clock starts at the request head
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, _version = lines[0].split(" ", 2)
                except ValueError:
                    await self._send_json(writer, 400, {"error": {"message": "bad request line"}})
                    return
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                keep = await self.route(method, target, body, reader, writer, arrival_ns)
                if not keep or headers.get("connection", "").lower() == "close":
                    return
        except (_ClientGone, ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def _send_json(self, writer, status: int, obj, extra_headers: str = "") -> None:
        data = json.dumps(obj).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}.get(status, "OK")
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n{extra_headers}\r\n".encode() + data
        )
        await writer.drain()

    async def route(self, method: str, target: str, body: bytes, reader, writer, arrival_ns: int = 0) -> bool:
        url = urlsplit(target)
        path = url.path.rstrip("/")
        if method == "GET" and path in ("/v1/models", "/models"):
            names = ["demo", *[n for n in self.config.served_names if n != "demo"]]
            await self._send_json(writer, 200, {"object": "list", "data": [
                {"id": n, "object": "model", "created": 0, "owned_by": "llmbench-sim"} for n in names]})
        elif method == "POST" and path in ("/v1/chat/completions", "/chat/completions"):
            return await self.chat(body, reader, writer, arrival_ns)
        elif method == "GET" and path == "/sim/stats":
            await self._send_json(writer, 200, self.stats(parse_qs(url.query)))
        elif method == "POST" and path == "/sim/reset":
            self.engine.reset_stats()
            await self._send_json(writer, 200, {"ok": True})
        elif method == "GET" and path == "/metrics":
            data = self.metrics_text().encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
            await writer.drain()
        elif method == "GET" and path in ("/health", "/v1/health"):
            await self._send_json(writer, 200, {"status": "ok"})
        else:
            await self._send_json(writer, 404, {"error": {"message": f"no route {method} {path}"}})
        return True

    def stats(self, query: dict) -> dict:
        eng = self.engine
        chunks = query.get("chunks", ["0"])[0] in ("1", "true")
        out = {
            "now_ns": time.monotonic_ns(),
            "config": self.config.public(),
            "tokens_emitted": eng.tokens_emitted,
            "requests": [r.as_dict(chunks) for r in eng.requests],
            "active": len(eng.active),
            "active_timeline": eng.timeline[-20000:],
        }
        if "from_ns" in query and "to_ns" in query:
            a, b = int(query["from_ns"][0]), int(query["to_ns"][0])
            tokens = eng.tokens_between(a, b)
            out["window"] = {"from_ns": a, "to_ns": b, "tokens": tokens,
                             "tok_s": tokens / ((b - a) / 1e9) if b > a else None}
        return out

    def metrics_text(self) -> str:
        """The server's state in Prometheus text format, named as vLLM names it."""
        label = '{model_name="demo"}'
        gauges: list[tuple[str, str, float]] = [("vllm:num_requests_running", "Requests prefilling or decoding.", self.running),
                  ("vllm:num_requests_waiting", "Requests waiting for a free slot.", self.waiting)]
        if self.config.max_streams:
            gauges.append(("vllm:kv_cache_usage_perc", "Share of the slots in use (1 = full).",
                           self.running / self.config.max_streams))
        counters = [("vllm:generation_tokens", "Generated tokens.", self.engine.generation_tokens_total),
                    ("vllm:prompt_tokens", "Prompt tokens.", self.prompt_tokens_total),
                    ("vllm:request_success", "Requests that finished.", self.finished_total),
                    ("vllm:num_preemptions", "Preemptions (the built-in engine never preempts).", 0)]
        out = []
        for name, text, value in gauges:
            out += [f"# HELP {name} {text}", f"# TYPE {name} gauge", f"{name}{label} {float(value)}"]
        for name, text, value in counters:
            out += [f"# HELP {name}_total {text}", f"# TYPE {name}_total counter", f"{name}_total{label} {float(value)}"]
        return "\n".join(out) + "\n"

    # -- chat completions -------------------------------------------------------------
    async def chat(self, body: bytes, reader, writer, arrival_ns: int = 0) -> bool:
        try:
            req = json.loads(body or b"{}")
            if not isinstance(req, dict):
                raise ValueError("body must be a JSON object")
            messages = req.get("messages") or []
            if not isinstance(messages, list):
                raise ValueError("messages must be a list")
        except ValueError as exc:
            await self._send_json(writer, 400, {"error": {"message": f"invalid JSON body: {exc}", "type": "invalid_request_error"}})
            return True
        cfg = self.config
        self.chat_requests += 1
        sim = req.get("sim")
        if not isinstance(sim, dict):
            sim = {}
        fail = sim.get("fail")
        if fail is None and cfg.fail and self.chat_requests % max(cfg.fail_every, 1) == 0:
            fail = cfg.fail
        if cfg.strict_params and ("ignore_eos" in req or "min_tokens" in req):
            await self._send_json(writer, 400, {"error": {
                "message": "Unrecognized request arguments: ignore_eos, min_tokens", "type": "invalid_request_error"}})
            return True
        if fail == "http500":
            await self._send_json(writer, 500, {"error": {"message": "sim: injected failure", "type": "server_error", "code": 500}})
            return True

        prompt = _last_user_text(messages)
        max_tokens = req.get("max_completion_tokens") or req.get("max_tokens") or DEFAULT_MAX_TOKENS
        answer = plan_answer(
            self.book, prompt, max_tokens=int(max_tokens), ignore_eos=bool(req.get("ignore_eos")),
            min_tokens=int(req.get("min_tokens") or 0), reasoning=bool(sim.get("reasoning", cfg.reasoning)),
            natural_length=cfg.natural_length,
        )
        prompt_tokens = max(1, sum(len(_text_of(m.get("content"))) for m in messages if isinstance(m, dict)) // 4)
        truth = self.engine.new_truth(prompt_tokens, 0 if fail == "empty" else answer.tokens, fail, arrival_ns)
        model = str(req.get("model") or "demo")
        opts = req.get("stream_options")
        if not isinstance(opts, dict):
            opts = {}
        reply = _Reply(self, writer, truth, answer, model, prompt_tokens,
                       stream=bool(req.get("stream")), include_usage=bool(opts.get("include_usage")),
                       continuous_usage=bool(opts.get("continuous_usage_stats")), fail=fail)
        return await reply.run(reader)

    async def serve(self) -> None:
        self.server = await asyncio.start_server(self.handle_connection, self.config.host, self.config.port,
                                                 backlog=1024, limit=1 << 22)
        if self.config.parent_pid:
            asyncio.get_running_loop().create_task(self._watch_parent(self.config.parent_pid))

    async def _watch_parent(self, pid: int) -> None:
        while True:
            await asyncio.sleep(0.5)
            if os.getppid() != pid:
                os._exit(0)

    @property
    def port(self) -> int:
        assert self.server is not None, "serve() has not run"
        return self.server.sockets[0].getsockname()[1]


class _Reply:
    """Streams (or collects) one answer, paced by the engine."""

    def __init__(self, server: SimServer, writer, truth, answer, model, prompt_tokens, *,
                 stream, include_usage, continuous_usage, fail):
        self.server, self.writer, self.truth, self.answer = server, writer, truth, answer
        self.model, self.prompt_tokens, self.stream = model, prompt_tokens, stream
        self.include_usage = include_usage and fail != "no_usage"
        self.continuous_usage = continuous_usage and fail != "no_usage"
        self.fail = fail
        self.pieces = [("reasoning_content", p) for p in answer.reasoning] + [("content", p) for p in answer.content]
        if fail == "empty":
            self.pieces = []
        self.sent = 0
        self.created = int(time.time())
        self.cid = f"chatcmpl-sim-{truth.id}"
        self.collected: dict[str, list[str]] = {"reasoning_content": [], "content": []}
        self.drop_at = max(1, len(self.pieces) // 2) if fail == "drop_midstream" else None

    def _chunk(self, delta: dict, finish_reason=None, usage=None) -> dict:
        out = {"id": self.cid, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
               "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
        if usage is not None:
            out["usage"] = usage
        return out

    def _usage(self, completion: int) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": completion,
                "total_tokens": self.prompt_tokens + completion}

    def emit(self, n: int) -> bool:
        """Send the next n tokens; False when the client is gone or a drop is injected."""
        if self.writer.transport.is_closing():
            return False
        if self.drop_at is not None and self.sent >= self.drop_at:
            self.writer.transport.abort()
            return False
        part = self.pieces[self.sent:self.sent + n]
        self.sent += len(part)
        delta: dict = {}
        for kind, text in part:
            delta[kind] = delta.get(kind, "") + text
        if self.stream:
            usage = self._usage(self.sent) if self.continuous_usage else None
            self.writer.write(_event(self._chunk(delta, usage=usage)))
        else:
            for kind, text in delta.items():
                self.collected[kind].append(text)
        return True

    def _tail(self) -> bytes:
        out = [_event(self._chunk({}, self.answer.finish_reason,
                                  self._usage(self.sent) if self.continuous_usage else None))]
        if self.include_usage:
            out.append(_event({"id": self.cid, "object": "chat.completion.chunk", "created": self.created,
                               "model": self.model, "choices": [], "usage": self._usage(self.sent)}))
        out.append(_chunked(b"data: [DONE]\n\n"))
        out.append(b"0\r\n\r\n")
        return b"".join(out)

    async def run(self, reader) -> bool:
        engine, writer = self.server.engine, self.writer
        if self.stream:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            writer.write(_event(self._chunk({"role": "assistant", "content": ""})))
        if self.fail == "stall":
            await _wait_or_gone(reader, self.server.config.stall_s)
            self.truth.outcome = "stalled"
            return False
        server = self.server
        if server.slots is None:
            ok = await self._counted(engine)
        else:
            server.waiting += 1
            try:
                await server.slots.acquire()   # queued until a slot frees: TTFT grows, as on a full server
            finally:
                server.waiting -= 1
            try:
                ok = await self._counted(engine)
            finally:
                server.slots.release()
        if not ok:
            return False
        server.finished_total += 1
        if self.stream:
            writer.write(self._tail())
            await writer.drain()
        else:
            message = {"role": "assistant", "content": "".join(self.collected["content"])}
            if self.collected["reasoning_content"]:
                message["reasoning_content"] = "".join(self.collected["reasoning_content"])
            body = {"id": self.cid, "object": "chat.completion", "created": self.created, "model": self.model,
                    "choices": [{"index": 0, "message": message, "finish_reason": self.answer.finish_reason}]}
            if self.fail != "no_usage":
                body["usage"] = self._usage(self.sent)
            await self.server._send_json(writer, 200, body)
        return True

    async def _counted(self, engine) -> bool:
        server = self.server
        server.running += 1
        server.prompt_tokens_total += self.prompt_tokens
        try:
            return await self._serve(engine)
        finally:
            server.running -= 1

    async def _serve(self, engine) -> bool:
        """Prefill, then decode paced by the engine; False when the stream did not finish."""
        await engine.prefill(self.prompt_tokens)
        if self.server.config.instant:
            ok = self._emit_all()
            self.truth.end_ns = time.monotonic_ns()
            self.truth.outcome = "finished" if ok else ("dropped" if self.drop_at else "disconnected")
        else:
            handle = Stream(self.truth, self.emit)
            engine.admit(handle)
            outcome = await handle.done
            ok = outcome == "finished"
            if not ok and self.drop_at is not None:
                self.truth.outcome = "dropped"
        return ok

    def _emit_all(self) -> bool:
        """Instant mode: every chunk in one write, recorded as one emission."""
        k = self.server.config.tokens_per_chunk
        truth, total = self.truth, len(self.pieces)
        if not self.stream:
            ok = self.emit(total) if total else True
        else:
            saved = self.writer.write
            parts: list[bytes] = []
            self.writer.write = parts.append      # gather, then one syscall
            ok = True
            while self.sent < total and ok:
                ok = self.emit(k)
            self.writer.write = saved
            self.writer.write(b"".join(parts))
        now = time.monotonic_ns()
        truth.first_token_ns = truth.first_token_ns or now
        truth.tokens = self.sent
        truth.chunk_ns.append(now)
        truth.chunk_tokens.append(self.sent)
        self.server.engine.tokens_emitted += self.sent
        self.server.engine.generation_tokens_total += self.sent
        return ok


async def _wait_or_gone(reader, seconds: float) -> None:
    try:
        await asyncio.wait_for(reader.read(1), timeout=seconds)
    except (asyncio.TimeoutError, ConnectionError):
        pass


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):   # [{"type": "text", "text": ...}, ...]
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _last_user_text(messages: list) -> str:
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            return _text_of(m.get("content"))
    return ""


# -- running it -------------------------------------------------------------------------
def run(config: SimConfig, port_file: str | None = None, announce=None) -> None:
    """Serve until interrupted; writes the bound port to ``port_file`` once listening."""

    async def main() -> None:
        sim = SimServer(config)
        sim.book.preload()   # task prompts are built before the first request, not during it
        await sim.serve()
        if port_file:
            tmp = f"{port_file}.tmp"
            Path(tmp).write_text(str(sim.port))
            os.replace(tmp, port_file)
        if announce:
            announce(sim)
        assert sim.server is not None
        async with sim.server:
            await sim.server.serve_forever()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass


class SimHandle:
    """A sim server running in a child process (its CPU work is off the caller's GIL)."""

    def __init__(self, proc: subprocess.Popen, host: str, port: int, log_path: str):
        self.proc, self.host, self.port, self.log_path = proc, host, port, log_path
        self.root_url = f"http://{host}:{port}"
        self.base_url = f"{self.root_url}/v1"

    def stats(self, chunks: bool = False, from_ns: int | None = None, to_ns: int | None = None) -> dict:
        query = f"?chunks={int(chunks)}"
        if from_ns is not None and to_ns is not None:
            query += f"&from_ns={int(from_ns)}&to_ns={int(to_ns)}"
        with urllib.request.urlopen(f"{self.root_url}/sim/stats{query}", timeout=30) as resp:
            return json.load(resp)

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.root_url}/sim/reset", data=b"", method="POST")
        urllib.request.urlopen(req, timeout=10).close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self) -> "SimHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def engine_argv(**options) -> list[str]:
    """Keyword options of ``start_background`` -> ``llmbench sim`` flags."""
    argv: list[str] = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if key == "capacity_curve" and not isinstance(value, str):
            value = format_curve(CapacityCurve(value).points)
        if key in ("served_name", "served_names"):
            for name in ([value] if isinstance(value, str) else value):
                argv += ["--served-name", name]
            continue
        if value is True:
            argv.append(flag)
        else:
            argv += [flag, str(value)]
    return argv


def start_background(host: str = "127.0.0.1", port: int = 0, *, startup_timeout: float = 30.0,
                     **engine_options) -> SimHandle:
    """Start ``llmbench sim`` in a subprocess and wait until it answers.

    ``engine_options`` mirror the CLI flags: capacity_curve (str "1:205,2:327" or
    {streams: tok_s}), prefill_tok_s, tokens_per_chunk, reasoning, instant,
    served_name(s), fail, fail_every, natural_length, strict_params, stall_s.
    """
    workdir = tempfile.mkdtemp(prefix="llmbench-sim-")
    port_file = os.path.join(workdir, "port")
    log_path = os.path.join(workdir, "sim.log")
    cmd = [sys.executable, "-m", "llmbench", "sim", "--host", host, "--port", str(port),
           "--port-file", port_file, "--parent-pid", str(os.getpid()), *engine_argv(**engine_options)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + startup_timeout
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            tail = Path(log_path).read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"built-in server did not start: {tail[0]}")
        time.sleep(0.02)
    handle = SimHandle(proc, host, int(Path(port_file).read_text()), log_path)
    while True:   # listening already; one real request proves it answers
        try:
            urllib.request.urlopen(f"{handle.root_url}/health", timeout=5).close()
            return handle
        except OSError:
            if time.monotonic() > deadline:
                handle.stop()
                raise RuntimeError("built-in server did not answer /health") from None
            time.sleep(0.05)
