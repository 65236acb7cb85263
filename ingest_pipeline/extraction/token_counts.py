"""Prompt tokens a chat request will be charged, counted before it is sent.

OpenAI's models are counted with their own byte-pair encoding (``o200k_base`` for the
gpt-4o and gpt-4.1 families, ``cl100k_base`` for gpt-3.5/gpt-4) from ``bpe-openai``, whose
vocabularies ship inside the wheel: nothing is downloaded at run time, unlike tiktoken. A
model the package does not know (Llama on vLLM, a new OpenAI model) falls back to
`CHARS_PER_TOKEN` characters a token; either way the pacer settles the difference with the
``usage`` the answer reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Protocol

from ingest_pipeline.extraction.llm_input import CHARS_PER_TOKEN

# OpenAI's counting guide: every chat message costs its content plus ~3 framing tokens, and
# the reply is primed with 3 more.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3


class _Encoding(Protocol):
    def encode_ordinary(self, text: str) -> list[int]: ...


@lru_cache(maxsize=32)
def encoding_for(api_model: str, encoding_name: str | None = None) -> _Encoding | None:
    """The tokenizer of ``api_model`` (or the named encoding), None when none is known.

    A provider prefix such as OpenRouter's ``openai/`` is ignored."""
    import bpe_openai

    try:
        name = encoding_name or bpe_openai.encoding_name_for_model(api_model.rsplit("/", 1)[-1])
        return bpe_openai.get_encoding(name)
    except (KeyError, ValueError, bpe_openai.UnsupportedModelError):
        return None


def text_tokens(text: str, encoding: _Encoding | None) -> int:
    """Tokens of ``text``: exact with an encoding, else the characters estimate (rounded up)."""
    if encoding is None:
        return -(-len(text) // CHARS_PER_TOKEN)
    return len(encoding.encode_ordinary(text))


def prompt_tokens(
    messages: Iterable[Mapping[str, Any]], *, api_model: str, encoding_name: str | None = None
) -> int:
    """Prompt tokens of a chat request's ``messages`` for ``api_model``."""
    encoding = encoding_for(api_model, encoding_name)
    total = TOKENS_PER_REPLY
    for message in messages:
        total += TOKENS_PER_MESSAGE + text_tokens(str(message.get("content") or ""), encoding)
    return total
