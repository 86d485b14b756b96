"""A local transformers causal LM as an LLM backend; torch and transformers load on first use."""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from rag.errors import LLMError, MissingExtraError
from rag.llm.base import ChatMessage, InProcessLLM, LLMResponse

logger = logging.getLogger(__name__)


class TransformersLLM(InProcessLLM):
    """A causal LM from a local folder (or a cached hub id), decoding greedily at temperature 0."""

    def __init__(
        self,
        model: str,
        *,
        temperature: float = 0.0,
        max_tokens: int = 512,
        seed: int | None = 0,
        device: str | None = None,
    ) -> None:
        """Record the model and parameters; weights load on warm_up() or the first call."""
        for package in ("torch", "transformers"):
            if importlib.util.find_spec(package) is None:
                raise MissingExtraError(package, "llm")
        super().__init__({"temperature": temperature, "max_tokens": max_tokens, "seed": seed})
        self.model = model
        self.device = device
        self._tokenizer: Any = None
        self._model: Any = None

    def _load(self) -> None:
        """Load tokenizer and model if not yet loaded; call with the lock held."""
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            tokenizer: Any = AutoTokenizer.from_pretrained(self.model)
            model: Any = AutoModelForCausalLM.from_pretrained(self.model)
        except (OSError, ValueError) as exc:
            raise LLMError(f"cannot load transformers model {self.model!r}: {exc}") from exc
        self._tokenizer = tokenizer
        self._model = model.to(device).eval()
        logger.info("loaded transformers model %s on %s", self.model, device)

    def _encode(self, messages: list[ChatMessage]) -> Any:
        """Token ids for the conversation, through the chat template when the tokenizer has one."""
        tokenizer = self._tokenizer
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(
                [m.model_dump() for m in messages], tokenize=False, add_generation_prompt=True
            )
            # The template already places any special tokens the model expects.
            return tokenizer(text, return_tensors="pt", add_special_tokens=False)
        # Base models have no roles to mark; the contents in order are the prompt.
        text = "\n\n".join(m.content for m in messages)
        return tokenizer(text, return_tensors="pt")

    def _generation_kwargs(self) -> dict[str, Any]:
        """Decoding arguments for generate(): greedy at temperature 0, else seeded sampling."""
        tokenizer = self._tokenizer
        pad = tokenizer.pad_token_id
        kwargs: dict[str, Any] = {
            "max_new_tokens": self._params["max_tokens"],
            "pad_token_id": pad if pad is not None else tokenizer.eos_token_id,
        }
        if self._params["temperature"] > 0:
            kwargs.update(do_sample=True, temperature=self._params["temperature"])
        else:
            kwargs.update(do_sample=False)
        return kwargs

    def chat(self, messages: list[ChatMessage], *, stage: str = "default") -> LLMResponse:
        """Generate a reply, counting prompt and new tokens."""
        import torch

        with self._lock:
            self._load()
            inputs = self._encode(messages).to(self._model.device)
            prompt_len = int(inputs["input_ids"].shape[1])
            seed = self._params["seed"]
            if self._params["temperature"] > 0 and seed is not None:
                torch.manual_seed(seed)
            try:
                with torch.inference_mode():
                    output = self._model.generate(**inputs, **self._generation_kwargs())
            except (RuntimeError, ValueError) as exc:
                raise LLMError(
                    f"transformers model {self.model!r}: generate failed: {exc}"
                ) from exc
        new_tokens = output[0, prompt_len:]
        text = self._tokenizer.decode(new_tokens, skip_special_tokens=True)
        finish = "length" if len(new_tokens) >= self._params["max_tokens"] else "stop"
        return LLMResponse(
            text=text,
            prompt_tokens=prompt_len,
            completion_tokens=len(new_tokens),
            raw={"finish_reason": finish, "device": str(self._model.device)},
        )
