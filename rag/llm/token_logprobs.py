"""The next token's log-probabilities from a llama.cpp model in-process, without logits_all.

llama-cpp-python returns `logprobs` only from a model loaded with `logits_all=True`, which
keeps a row of vocabulary logits for every context position (n_ctx x 152k floats, gigabytes
for Qwen2.5). A relevance judgement needs one row: the last prompt token's. So the prompt is
evaluated here and that row read from the context; the tokens it shares with the previous
prompt (a rerank's system text and question) are kept in the KV cache, not evaluated again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rag.errors import LLMError
from rag.llm.base import ChatMessage

#: A token's log-probability, as servers report it: (token text, natural-log probability).
TokenLogprob = tuple[str, float]


def chat_prompt(llama: Any, messages: list[ChatMessage]) -> str:
    """The conversation rendered by the GGUF's own chat template, ending where the reply starts."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise LLMError("the GGUF model has no chat template to render the prompt with")

    def token_text(token: int) -> str:
        if token < 0:
            return ""
        return bytes(llama.detokenize([token], special=True)).decode("utf-8", errors="replace")

    formatter = Jinja2ChatFormatter(
        template=template,
        eos_token=token_text(llama.token_eos()),
        bos_token=token_text(llama.token_bos()),
        add_generation_prompt=True,
    )
    turns: list[Any] = [m.model_dump() for m in messages]
    rendered = formatter(messages=turns)
    return str(rendered.prompt)


def shared_prefix(evaluated: np.ndarray, tokens: list[int]) -> int:
    """How many leading tokens of `tokens` equal those already evaluated."""
    n = min(len(evaluated), len(tokens))
    if n == 0:
        return 0
    differs = np.nonzero(np.asarray(evaluated[:n]) != np.asarray(tokens[:n]))[0]
    return int(differs[0]) if differs.size else n


def next_token_logprobs(llama: Any, prompt: str, top: int) -> tuple[list[TokenLogprob], int]:
    """The `top` most likely next tokens after `prompt` with their log-probabilities, best
    first, and the prompt's length in tokens. Call with the model's lock held."""
    import llama_cpp

    tokens = llama.tokenize(prompt.encode("utf-8"), special=True)
    if len(tokens) >= llama.n_ctx():
        raise LLMError(f"prompt of {len(tokens)} tokens does not fit n_ctx {llama.n_ctx()}")
    evaluated = llama.input_ids[: llama.n_tokens]
    # At least the last token is evaluated again: its logits are the ones wanted.
    keep = min(shared_prefix(evaluated, tokens), len(tokens) - 1)
    llama.n_tokens = keep
    llama.eval(tokens[keep:])
    row = llama_cpp.llama_get_logits_ith(llama.ctx, -1)
    logits = np.ctypeslib.as_array(row, shape=(llama.n_vocab(),)).astype(np.float64)
    shifted = logits - logits.max()
    logprobs = shifted - np.log(np.exp(shifted).sum())
    best = np.argsort(-logprobs)[:top]
    pairs = [
        (
            bytes(llama.detokenize([int(t)], special=True)).decode("utf-8", errors="replace"),
            float(logprobs[t]),
        )
        for t in best
    ]
    return pairs, len(tokens)
