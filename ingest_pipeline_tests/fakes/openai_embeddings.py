"""Embeddings as the fake OpenAI answers them: request checks, faults, vectors and bodies.

Shapes follow ``openai.types.CreateEmbeddingResponse`` and OpenAI's error envelope. The
vectors are not a model's, but they behave like one where tests look: each is a feature-hashed
bag of the text's lower-cased words (`embed_text`), L2-normalised, so identical texts get
identical vectors and texts sharing words are closer (cosine) than texts that share none.
With ``encoding_format="base64"`` (what the ``openai`` client asks for unless told otherwise)
each vector is its little-endian float32 bytes in base64; with ``"float"`` a JSON array of the
same float32 values.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import bpe_openai

from ingest_pipeline_tests.fakes.openai_chat import FAULT_KINDS, OpenAIFaults, fault_error
from ingest_pipeline_tests.fakes.openai_http import error_body

MODEL_DIMENSIONS: dict[str, int] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
"""Each known model's native vector length (what it returns without ``dimensions``)."""

DEFAULT_DIMENSIONS = 256
"""The vector length for a model the fake does not know."""

FIXED_DIMENSIONS = frozenset({"text-embedding-ada-002"})
"""Models that reject ``dimensions``, as OpenAI's pre-v3 models do."""

MAX_INPUTS = 2048
MAX_INPUT_TOKENS = 8192
MAX_REQUEST_TOKENS = 300_000

EMBEDDING_FAULT_KINDS: tuple[str, ...] = ("429", "500", "503", "slow")
"""The faults an embeddings request can get; the chat-only ones that answer 200 ("refusal",
"invalid_json", "length") mean nothing here and are consumed without effect."""

_CL100K = bpe_openai.get_encoding("cl100k_base")  # the encoding of OpenAI's embedding models
_WORD = re.compile(r"\w+")
_INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: "
    "https://platform.openai.com/docs/api-reference."
)


@dataclass
class EmbeddingRequest:
    """What the server received for one valid ``POST /v1/embeddings``.

    ``inputs`` holds the texts embedded, in order (a token-id array is decoded from
    cl100k_base, so it embeds like its text); ``tokens`` their cl100k_base token counts;
    ``dimensions`` the vector length answered (the model's default unless the body set it);
    ``encoding_format`` the body's (``"float"`` when absent); ``body`` the parsed JSON.
    """

    model: str
    inputs: list[str]
    tokens: list[int]
    dimensions: int
    encoding_format: str
    user: str | None
    body: dict

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)


@dataclass
class EmbeddingStats:
    """What the embeddings endpoint saw; replace with ``EmbeddingStats()`` to reset.

    ``calls`` counts ``POST /v1/embeddings`` requests (any outcome); ``ok`` those answered 200,
    ``inputs`` the texts they embedded and ``prompt_tokens`` their usage; ``rate_limited``
    those answered 429, by error type (``"requests"``/``"tokens"`` from the rate limits,
    ``"rate_limit_error"`` from an injected fault); ``accepted_by_key`` the requests the limits
    let through, per API key, and ``tokens_charged`` the tokens charged for them.
    """

    calls: int = 0
    ok: int = 0
    inputs: int = 0
    prompt_tokens: int = 0
    rate_limited: Counter[str] = field(default_factory=Counter)
    accepted_by_key: Counter[str] = field(default_factory=Counter)
    tokens_charged: int = 0

    def accepted(self, key: str, request: EmbeddingRequest) -> None:
        self.accepted_by_key[key] += 1
        self.tokens_charged += request.total_tokens

    def answered(self, status: int, body: dict) -> None:
        """Count one answer of an accepted request."""
        if status == 200:
            self.ok += 1
            self.inputs += len(body["data"])
            self.prompt_tokens += body["usage"]["prompt_tokens"]
        elif status == 429:
            self.rate_limited[body["error"]["type"]] += 1


# -- requests ------------------------------------------------------------------------------


def embedding_request(body: Any) -> tuple[EmbeddingRequest | None, dict | None]:
    """Validate an embeddings body -> (request, None) or (None, OpenAI error body)."""
    if not isinstance(body, dict):
        return None, _invalid("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return None, _invalid("you must provide a model parameter")
    if "input" not in body:
        return None, _invalid(
            "Missing required parameter: 'input'.", "input", "missing_required_parameter"
        )
    texts = _input_texts(body["input"])
    if isinstance(texts, dict):
        return None, texts
    tokens = [count for _, count in texts]
    if (longest := max(tokens)) > MAX_INPUT_TOKENS:
        return None, _invalid(
            f"This model's maximum context length is {MAX_INPUT_TOKENS} tokens, however you "
            f"requested {longest} tokens ({longest} in your prompt; 0 for the completion). "
            "Please reduce your prompt; or completion length.",
            "input",
        )
    if sum(tokens) > MAX_REQUEST_TOKENS:
        return None, _invalid(
            f"Requested {sum(tokens)} tokens, max {MAX_REQUEST_TOKENS} tokens per request",
            "input",
            "max_tokens_per_request",
        )
    dimensions = _dimensions(model, body.get("dimensions"))
    if isinstance(dimensions, dict):
        return None, dimensions
    encoding_format = body.get("encoding_format") or "float"
    if encoding_format not in ("float", "base64"):
        return None, _invalid(
            f"Invalid value: {encoding_format!r}. Supported values are: 'float' and 'base64'.",
            "encoding_format",
            "invalid_value",
        )
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        return None, _invalid(f"Invalid type for 'user': expected a string, got {user!r}.")
    texts_only = [text for text, _ in texts]
    return (
        EmbeddingRequest(model, texts_only, tokens, dimensions, encoding_format, user, body),
        None,
    )


def _input_texts(value: Any) -> list[tuple[str, int]] | dict:
    """``input`` -> [(text, tokens)] or an error body. Accepts a string, an array of strings,
    an array of token ids (one input) or an array of such arrays."""
    if isinstance(value, str) or _is_token_array(value):
        value = [value]
    if not isinstance(value, list) or not value:
        return _invalid(_INVALID_INPUT)
    if len(value) > MAX_INPUTS:
        return _invalid(
            f"Too many inputs. The max number of inputs is {MAX_INPUTS}. We recommend "
            "sending your inputs in batches.",
            "input",
        )
    texts: list[tuple[str, int]] = []
    for item in value:
        if isinstance(item, str) and item:
            texts.append((item, len(_CL100K.encode_ordinary(item))))
        elif _is_token_array(item) and item:
            if not all(0 <= token <= _CL100K.max_token_value for token in item):
                return _invalid(f"Invalid token id in 'input': {item!r}.", "input")
            texts.append((_CL100K.decode(item), len(item)))
        else:
            return _invalid(_INVALID_INPUT)
    return texts


def _is_token_array(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(token, int) and not isinstance(token, bool) for token in value
    )


def _dimensions(model: str, value: Any) -> int | dict:
    """The vector length for ``model`` and the body's ``dimensions`` (or an error body)."""
    native = MODEL_DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
    if value is None:
        return native
    if model in FIXED_DIMENSIONS:
        return _invalid(
            "This model does not support specifying dimensions.", "dimensions", "invalid_value"
        )
    most = native if model in MODEL_DIMENSIONS else max(MODEL_DIMENSIONS.values())
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
        return _invalid(
            f"Invalid value for 'dimensions' = {value!r}. Must be an integer from 1 to {most}.",
            "dimensions",
            "invalid_value",
        )
    return value


def _invalid(message: str, param: str | None = None, code: str | None = None) -> dict:
    return error_body(message, "invalid_request_error", param=param, code=code)


# -- faults --------------------------------------------------------------------------------


def take_embedding_fault(faults: OpenAIFaults, rng: random.Random) -> str | None:
    """The fault for the next embeddings request, from the same plan as chat completions:
    ``faults.next`` first, else a seeded draw from ``faults.kinds`` with probability
    ``faults.share``. Chat-only faults are consumed and give None (caller holds the lock)."""
    fault = faults.next.pop(0) if faults.next else None
    if fault is None and faults.share > 0 and rng.random() < faults.share:
        fault = rng.choice(faults.kinds)
    if fault is not None and fault not in (*EMBEDDING_FAULT_KINDS, *FAULT_KINDS):
        known = tuple(dict.fromkeys((*EMBEDDING_FAULT_KINDS, *FAULT_KINDS)))
        raise ValueError(f"unknown fault {fault!r}; known: {known}")
    return fault if fault in EMBEDDING_FAULT_KINDS else None


def embedding_fault_error(kind: str, model: str) -> tuple[int, dict] | None:
    """The HTTP status and error body of an error fault (None for "slow")."""
    if kind == "503":
        message = "The server is overloaded or not ready yet."
        return 503, error_body(message, "server_error")
    return fault_error(kind, model)


# -- answers -------------------------------------------------------------------------------


def answer_embeddings(request: EmbeddingRequest, fault: str | None) -> tuple[int, dict]:
    """(status, body) of one embeddings request: an error fault, or the embeddings list."""
    if fault is not None and (error := embedding_fault_error(fault, request.model)) is not None:
        return error
    data = []
    for index, text in enumerate(request.inputs):
        vector = embed_text(text, request.dimensions)
        encoded: list[float] | str = vector
        if request.encoding_format == "base64":
            encoded = base64.b64encode(_float32_bytes(vector)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = request.total_tokens
    return 200, {
        "object": "list",
        "data": data,
        "model": request.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def embed_text(text: str, dimensions: int) -> list[float]:
    """The fake's vector for ``text``: each lower-cased word (``\\w+``) adds +-1 at an index
    picked by its blake2b hash (the sign from another bit of the hash), then the vector is
    L2-normalised and rounded to float32, as the API sends it. Deterministic across processes.
    A text without words hashes as one word; a vector whose words cancel out gets a 1 at the
    whole text's index."""
    counts: Counter[int] = Counter()
    for word in _WORD.findall(text.lower()) or [text]:
        index, sign = _slot(word, dimensions)
        counts[index] += sign
    norm = math.sqrt(sum(value * value for value in counts.values()))
    if norm == 0.0:
        counts = Counter({_slot("\0" + text, dimensions)[0]: 1})
        norm = 1.0
    vector = [0.0] * dimensions
    for index, value in counts.items():
        if value:  # zeros stay exact; the rest are rounded to float32
            vector[index] = struct.unpack("<f", struct.pack("<f", value / norm))[0]
    return vector


def cosine_similarity(a: list[float], b: list[float]) -> float:
    """The cosine of two vectors (equal lengths; 0.0 when either is all zeros)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms else 0.0


def _slot(word: str, dimensions: int) -> tuple[int, int]:
    """A word's index (the hash modulo ``dimensions``) and sign (the hash's top bit)."""
    digest = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
    return digest % dimensions, -1 if digest >> 63 else 1


def _float32_bytes(vector: list[float]) -> bytes:
    return struct.pack(f"<{len(vector)}f", *vector)
