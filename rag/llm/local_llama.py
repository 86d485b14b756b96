"""A GGUF model run in-process through llama-cpp-python; loads on warm_up() or the first call.

A model whose GGUF carries a chat template is prompted chat-style through it; one without (a
base model) gets the conversation rendered as a plain completion prompt, in which the
operator's example turns become few-shot examples. JSON is asked for with a grammar built from
the operator's schema, so the reply parses even when the model would loop or wander.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import threading
from pathlib import Path
from typing import Any, Literal

from rag.errors import LLMError, MissingExtraError
from rag.llm.base import ChatMessage, InProcessLLM, LLMResponse
from rag.llm.structured import JsonOutput

logger = logging.getLogger(__name__)

PromptStyle = Literal["auto", "chat", "completion"]
#: Labels of the turns in a completion prompt; the next "Input:" is where a reply ends.
INPUT_LABEL = "Input:"
OUTPUT_LABEL = "Output:"
#: ggml's log levels (ggml.h: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5).
_GGML_ERROR, _GGML_CONT = 4, 5
_log_lock = threading.Lock()
_log_state: dict[str, Any] = {"callback": None, "line": b"", "level": 0}


def _forward_llama_log(level: int, text: bytes, _user_data: Any) -> None:
    """Pass llama.cpp's log lines to this module's logger: debug, errors as warnings."""
    # llama-cpp-python's own callback prints to stderr whatever it takes for an error, and it
    # reads ggml's levels one off, so warnings such as "llama_kv_cache_iswa: using full-size
    # SWA cache" reached the terminal despite verbose=False.
    with _log_lock:
        if level != _GGML_CONT:
            _log_state["level"] = level
        _log_state["line"] += text
        if not _log_state["line"].endswith(b"\n"):
            return  # a line written in pieces
        line = _log_state["line"].decode("utf-8", errors="replace").rstrip()
        _log_state["line"] = b""
        is_error = _log_state["level"] == _GGML_ERROR
    if line:
        logger.log(logging.WARNING if is_error else logging.DEBUG, "llama.cpp: %s", line)


def route_llama_logs() -> None:
    """Send llama.cpp's logging to Python logging from now on (once per process)."""
    import llama_cpp

    with _log_lock:
        if _log_state["callback"] is None:
            # Kept in module state: llama.cpp calls it for as long as the process lives.
            _log_state["callback"] = llama_cpp.llama_log_callback(_forward_llama_log)
            llama_cpp.llama_log_set(_log_state["callback"], ctypes.c_void_p(0))


def render_completion(messages: list[ChatMessage]) -> str:
    """A conversation as one completion prompt: system text first, then Input/Output pairs.

    Earlier user/assistant pairs read as worked examples, and the prompt ends on an open
    "Output:" for the model to continue.
    """
    parts: list[str] = []
    for message in messages:
        content = message.content.strip()
        if message.role == "system":
            parts.append(f"{content}\n")
        elif message.role == "assistant":
            parts.append(f"{OUTPUT_LABEL} {content}\n")
        else:
            parts.append(f"{INPUT_LABEL}\n{content}")
    return "\n".join(parts) + f"\n{OUTPUT_LABEL}"


class LocalLlamaLLM(InProcessLLM):
    """A GGUF model on the CPU through llama.cpp, greedy at temperature 0 and seeded otherwise."""

    def __init__(
        self,
        model_path: Path,
        *,
        name: str | None = None,
        n_ctx: int = 4096,
        n_threads: int = 1,
        temperature: float = 0.0,
        max_tokens: int = 512,
        seed: int | None = 0,
        prompt_style: PromptStyle = "auto",
    ) -> None:
        """Record the file and parameters; nothing is loaded yet."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise MissingExtraError("llama-cpp-python", "local")
        if not Path(model_path).is_file():
            raise LLMError(f"GGUF model file not found: {model_path}")
        if n_threads < 1:
            raise ValueError(f"n_threads must be at least 1, got {n_threads}")
        self.model_path = Path(model_path)
        self.model = name or self.model_path.name
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.prompt_style = prompt_style
        # The file and context size change replies too, so they are parameters.
        super().__init__(
            {
                "temperature": temperature,
                "max_tokens": max_tokens,
                "seed": seed,
                "n_ctx": n_ctx,
                "gguf": self.model_path.name,
                "prompt_style": prompt_style,
            }
        )
        self._llama: Any = None
        self._style: Literal["chat", "completion"] = "completion"

    def _load(self) -> None:
        """Load the model if not yet loaded and choose the prompt style; call with the lock."""
        if self._llama is not None:
            return
        from llama_cpp import Llama

        route_llama_logs()
        seed = self._params["seed"]
        try:
            llama = Llama(
                model_path=str(self.model_path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                seed=seed if seed is not None else -1,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise LLMError(f"cannot load GGUF model {self.model_path}: {exc}") from exc
        has_template = bool(llama.metadata.get("tokenizer.chat_template"))
        if self.prompt_style == "auto":
            self._style = "chat" if has_template else "completion"
        else:
            self._style = self.prompt_style
        self._llama = llama
        logger.info(
            "loaded %s (%s prompts, n_ctx %d, %d thread(s))",
            self.model_path.name,
            self._style,
            self.n_ctx,
            self.n_threads,
        )

    def chat(self, messages: list[ChatMessage], *, stage: str = "default") -> LLMResponse:
        """Generate a free-text reply."""
        return self._generate(messages, None)

    def chat_json(
        self, messages: list[ChatMessage], output: JsonOutput, *, stage: str = "default"
    ) -> LLMResponse:
        """Generate a reply constrained by `output`'s schema."""
        return self._generate(messages, output)

    def next_token_logprobs(
        self, messages: list[ChatMessage], *, top: int = 20, stage: str = "default"
    ) -> LLMResponse:
        """The first reply token's `top` likeliest tokens, read from the logits (no sampling)."""
        from rag.llm.token_logprobs import chat_prompt, next_token_logprobs

        with self._lock:
            self._load()
            try:
                prompt = (
                    chat_prompt(self._llama, messages)
                    if self._style == "chat"
                    else render_completion(messages)
                )
                pairs, prompt_tokens = next_token_logprobs(self._llama, prompt, top)
            except (ValueError, RuntimeError) as exc:
                raise LLMError(f"GGUF model {self.model!r}: scoring failed: {exc}") from exc
        return LLMResponse(
            text=pairs[0][0] if pairs else "",
            prompt_tokens=prompt_tokens,
            raw={"top_logprobs": [list(p) for p in pairs], "style": self._style},
        )

    def _generate(self, messages: list[ChatMessage], output: JsonOutput | None) -> LLMResponse:
        """One generation under the lock; llama.cpp's errors become LLMError naming the model."""
        from llama_cpp import LlamaGrammar

        decoding: dict[str, Any] = {
            "max_tokens": self._params["max_tokens"],
            "temperature": self._params["temperature"],
            "seed": self._params["seed"],
        }
        with self._lock:
            self._load()
            try:
                if self._style == "chat":
                    if output is not None:
                        decoding["response_format"] = {
                            "type": "json_object",
                            "schema": output.schema,
                        }
                    reply = self._llama.create_chat_completion(
                        messages=[m.model_dump() for m in messages], **decoding
                    )
                    choice = reply["choices"][0]
                    text = choice["message"].get("content") or ""
                else:
                    if output is not None:
                        decoding["grammar"] = LlamaGrammar.from_string(
                            output.grammar(), verbose=False
                        )
                    reply = self._llama.create_completion(
                        render_completion(messages), stop=[f"\n{INPUT_LABEL}"], **decoding
                    )
                    choice = reply["choices"][0]
                    text = choice["text"]
            except (ValueError, RuntimeError) as exc:
                # e.g. a prompt longer than n_ctx: retrying cannot help, so it is not transient.
                raise LLMError(f"GGUF model {self.model!r}: generation failed: {exc}") from exc
        usage = reply.get("usage") or {}
        return LLMResponse(
            text=text.strip(),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            raw={
                "finish_reason": choice.get("finish_reason"),
                "style": self._style,
                "structured": "grammar" if output is not None else None,
            },
        )
