"""Token counts in the unit of chunk sizes and summary budgets: tiktoken cl100k (llama-index)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache


@cache
def _tokenizer() -> Callable[[str], list[int]]:
    """llama-index's default tokenizer (cl100k), loaded once."""
    from llama_index.core.utils import get_tokenizer

    tokenizer: Callable[[str], list[int]] = get_tokenizer()
    return tokenizer


def count_tokens(text: str) -> int:
    """How many cl100k tokens `text` has, the unit of chunk_size and summary budgets."""
    return len(_tokenizer()(text)) if text else 0
