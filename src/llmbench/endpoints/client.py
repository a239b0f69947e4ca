"""Streaming chat client for OpenAI-compatible servers (no pytest import).

One call = one streamed request with ``stream_options.include_usage``; the result
records time to first token (content or reasoning), total time, usage, and the
answer split from reasoning fields. Failures never raise: they come back as
``ChatResult.error`` with a one-line reason, so a test can fail with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import openai

from llmbench.endpoints.endpoint import Endpoint
from llmbench.redact import redact

PREFLIGHT_TIMEOUT_S = 10.0


class PreflightError(Exception):
    """The server cannot serve this run (unreachable, model not served, auth)."""


@dataclass
class ChatResult:
    content: str = ""                 # content exactly as streamed
    reasoning: str = ""               # reasoning_content / reasoning fields
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_s: float | None = None
    duration_s: float = 0.0
    finish_reason: str | None = None
    error: str | None = None
    chunks: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def make_client(endpoint: Endpoint, timeout: float | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=endpoint.api_url,
        # Local servers usually need no key, but the SDK insists on one.
        api_key=endpoint.api_key or "not-needed",
        timeout=timeout if timeout is not None else endpoint.request_timeout,
        max_retries=0,  # a benchmark measures one request, never a silent retry
    )


def _is_timeout(exc: BaseException) -> bool:
    # Mid-stream read timeouts reach us as the HTTP library's own exception, unwrapped.
    return isinstance(exc, (openai.APITimeoutError, TimeoutError)) or "Timeout" in type(exc).__name__


def describe_error(exc: BaseException, endpoint: Endpoint, timeout: float) -> str:
    """One line that says what went wrong, without the API key."""
    if _is_timeout(exc):
        return f"timed out after {timeout:g}s waiting for {endpoint.api_url}"
    if isinstance(exc, openai.APIConnectionError):
        return f"cannot reach {endpoint.api_url} ({_root_cause(exc)})"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code} from {endpoint.api_url}: {_status_message(exc)}"
    return f"malformed response from {endpoint.api_url}: {type(exc).__name__}: {exc}"


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


def _status_message(exc: "openai.APIStatusError") -> str:
    body = exc.body
    message = None
    if isinstance(body, dict):
        error = body.get("error")
        message = body.get("message") or (error.get("message") if isinstance(error, dict) else error)
    elif isinstance(body, str):
        message = body
    message = str(message or exc.message or "no message").strip()
    return message.splitlines()[0][:300] if message else "no message"


def _content_of(delta) -> str:
    """The delta's text; anything else in ``content`` (a number, a bool, an object) is a
    malformed stream, not text to grade."""
    value = delta.content
    if value is None or isinstance(value, str):
        return value or ""
    raise ValueError(f"malformed stream: a chunk's delta.content is {type(value).__name__}, not text")


def _reasoning_of(delta) -> str:
    for name in ("reasoning_content", "reasoning"):
        value = getattr(delta, name, None)
        if value is None and getattr(delta, "model_extra", None):
            value = delta.model_extra.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def chat(endpoint: Endpoint, prompt: str, *, max_tokens: int | None = None,
         temperature: float | None = None, timeout: float | None = None,
         on_piece: Callable[[str], None] | None = None) -> ChatResult:
    """Stream one chat completion and measure it; ``on_piece("reasoning"|"answer")`` per streamed piece."""
    timeout = endpoint.request_timeout if timeout is None else timeout
    result = ChatResult()
    content: list[str] = []
    reasoning: list[str] = []
    start = time.perf_counter()
    try:
        client = make_client(endpoint, timeout)
        stream = client.chat.completions.create(
            model=endpoint.served_name,
            messages=[{"role": "user", "content": prompt}],
            max_tokens=max_tokens or endpoint.max_tokens,
            temperature=endpoint.temperature if temperature is None else temperature,
            stream=True,
            stream_options={"include_usage": True},
            extra_body=endpoint.extra_body or None,
        )
        with stream:
            for chunk in stream:
                result.chunks += 1
                if chunk.usage is not None:
                    result.prompt_tokens = chunk.usage.prompt_tokens
                    result.completion_tokens = chunk.usage.completion_tokens
                for choice in chunk.choices or ():
                    delta = choice.delta
                    piece = _content_of(delta) if delta else ""
                    thought = _reasoning_of(delta) if delta else ""
                    if (piece or thought) and result.ttft_s is None:
                        result.ttft_s = time.perf_counter() - start
                    if piece:
                        content.append(piece)
                    if thought:
                        reasoning.append(thought)
                    if on_piece is not None and (piece or thought):
                        on_piece("answer" if piece else "reasoning")
                    if choice.finish_reason:
                        result.finish_reason = choice.finish_reason
                if time.perf_counter() - start > timeout:
                    raise TimeoutError(f"no complete answer within {timeout:g}s")
    except Exception as exc:  # every failure becomes a recorded reason
        if result.chunks and not _is_timeout(exc):
            result.error = f"stream from {endpoint.api_url} broke after {result.chunks} chunks: {_root_cause(exc)}"
        else:
            result.error = describe_error(exc, endpoint, timeout)
    result.duration_s = time.perf_counter() - start
    result.content = "".join(content)
    result.reasoning = "".join(reasoning)
    if result.error is None:
        result.error = incomplete_reason(result, endpoint.api_url)
    # servers echo the key in errors, models may repeat it: never past this point
    result.content, result.reasoning = redact(result.content), redact(result.reasoning)
    result.error = redact(result.error) if result.error else result.error
    return result


def incomplete_reason(result: ChatResult, api_url: str) -> str | None:
    """Why a stream that raised nothing is still not a whole answer (None when it is one).

    A server ends every choice with a ``finish_reason``; a stream without one was
    cut (a connection closed mid-answer reads as a clean end of stream), and what
    came before it is not the model's whole answer.
    """
    if result.chunks == 0:
        return f"empty stream from {api_url}: no chunks before [DONE]"
    if result.finish_reason is None:
        return (f"stream ended early: {api_url} closed the stream after {result.chunks} chunks "
                "without a finish_reason")
    if not result.content and not result.reasoning:
        tokens = "" if result.completion_tokens is None else f", completion_tokens {result.completion_tokens}"
        return f"empty answer from {api_url}: no text before finish_reason '{result.finish_reason}'{tokens}"
    return None


def served_models(endpoint: Endpoint, timeout: float = PREFLIGHT_TIMEOUT_S) -> list[str]:
    """``GET /models``; raises PreflightError with one clear line."""
    try:
        return sorted(m.id for m in make_client(endpoint, timeout).models.list())
    except openai.AuthenticationError:
        raise PreflightError(f"{endpoint.api_url} refused the API key (HTTP 401); pass --api-key or set OPENAI_API_KEY") from None
    except openai.OpenAIError as exc:
        raise PreflightError(f"server check failed: {describe_error(exc, endpoint, timeout)}") from None
    except Exception as exc:
        if _is_transport_error(exc):  # the HTTP library's own error, not wrapped by the SDK
            why = describe_error(exc, endpoint, timeout) if _is_timeout(exc) else \
                f"cannot reach {endpoint.api_url} ({_root_cause(exc)})"
            raise PreflightError(f"server check failed: {why}") from None
        raise PreflightError(_not_a_model_list(endpoint, timeout)) from None  # the body was no model list


def _is_transport_error(exc: BaseException) -> bool:
    package = type(exc).__module__.split(".")[0]
    return isinstance(exc, OSError) or package.startswith(("httpx", "httpcore"))


def _not_a_model_list(endpoint: Endpoint, timeout: float) -> str:
    """What /models sent instead of an OpenAI model list (an HTML page, a proxy's login, ...)."""
    import urllib.request

    got = "a body the OpenAI client could not read"
    request = urllib.request.Request(f"{endpoint.api_url}/models")
    if endpoint.api_key:
        request.add_header("Authorization", f"Bearer {endpoint.api_key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            start = response.read(400).decode("utf-8", "replace")
        got = f"{kind}: {' '.join(start[:80].split())!r}"
    except (OSError, ValueError):
        pass
    return (f"{endpoint.api_url}/models did not answer with an OpenAI model list (got {got}); "
            "is --api-url the server's OpenAI base URL (usually ending in /v1)?")


def preflight(endpoint: Endpoint, timeout: float = PREFLIGHT_TIMEOUT_S) -> list[str]:
    """Make sure the server is up and serves the model, before any test runs."""
    served = served_models(endpoint, timeout)
    if endpoint.served_name not in served:
        listing = ", ".join(served) if served else "nothing"
        raise PreflightError(
            f"model '{endpoint.served_name}' is not served at {endpoint.api_url}; it serves: {listing}"
            + ("" if endpoint.alias == endpoint.served_name else f" (alias '{endpoint.alias}' in models.yaml)")
        )
    return served
