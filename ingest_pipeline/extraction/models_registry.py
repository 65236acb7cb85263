"""The models registry: every model the LLM steps may call, with its provider, key, prices,
rate limits and whether it supports strict structured outputs.

A task names a model by its registry name, which is also the model in the extraction
cache's key. Built-in entries cover OpenAI's common models; ``INGEST_MODELS`` (a JSON
object of name → fields) adds models or overrides fields, e.g. an OpenRouter or a local
vLLM/Ollama model:

    INGEST_MODELS='{"llama3": {"provider": "compatible", "base_url": "http://gpu:8000/v1",
                    "api_model": "meta-llama/Meta-Llama-3-8B-Instruct",
                    "structured_outputs": false, "rpm": 600, "tpm": 1000000}}'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from typing import Literal

Provider = Literal["openai", "azure", "openrouter", "compatible"]

PROVIDER_BASE_URLS: dict[str, str | None] = {
    "openai": None,  # the openai client's default
    "openrouter": "https://openrouter.ai/api/v1",
}
PROVIDER_KEY_VARIABLES: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "azure": "AZURE_OPENAI_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "compatible": "LLM_API_KEY",
}


class UnknownModel(ValueError):
    """A model name the registry does not hold, or a registry entry that cannot be used."""


@dataclass(frozen=True)
class ModelSpec:
    """One callable model.

    ``name`` is what tasks and the cache call it; ``api_model`` is the id sent to the
    provider (OpenRouter's ``openai/gpt-4o-mini``, an Azure deployment name); ``base_url``
    is the provider's OpenAI-compatible endpoint (required for ``azure`` and
    ``compatible``); ``api_key_variable`` names the environment variable holding its key;
    prices are USD per million tokens; ``rpm``/``tpm`` the account's limits the pacer keeps
    to (None: unpaced); ``structured_outputs`` false means JSON mode plus validation;
    ``tokenizer`` names the byte-pair encoding that counts its prompts (None: the one
    ``api_model`` is known to use, else a characters estimate; see `token_counts`).
    """

    name: str
    provider: Provider = "openai"
    api_model: str = ""
    base_url: str | None = None
    api_key_variable: str = ""
    input_price_per_million: float = 0.0
    output_price_per_million: float = 0.0
    rpm: int | None = None
    tpm: int | None = None
    structured_outputs: bool = True
    tokenizer: str | None = None

    def resolved(self) -> ModelSpec:
        """The spec with the provider's defaults filled in; `UnknownModel` when unusable."""
        if self.provider not in PROVIDER_KEY_VARIABLES:
            raise UnknownModel(f"model {self.name!r}: unknown provider {self.provider!r}")
        base_url = self.base_url or PROVIDER_BASE_URLS.get(self.provider)
        if base_url is None and self.provider in ("azure", "compatible"):
            raise UnknownModel(f"model {self.name!r}: a {self.provider} model needs a base_url")
        return replace(
            self,
            api_model=self.api_model or self.name,
            base_url=base_url,
            api_key_variable=self.api_key_variable or PROVIDER_KEY_VARIABLES[self.provider],
        )


BUILTIN_MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "gpt-4o-mini",
            input_price_per_million=0.15,
            output_price_per_million=0.60,
            rpm=500,
            tpm=200_000,
        ),
        ModelSpec(
            "gpt-4o",
            input_price_per_million=2.50,
            output_price_per_million=10.00,
            rpm=500,
            tpm=30_000,
        ),
        ModelSpec(
            "gpt-4.1-mini",
            input_price_per_million=0.40,
            output_price_per_million=1.60,
            rpm=500,
            tpm=200_000,
        ),
        # Embeddings models (INGEST_EMBEDDING_MODEL): input tokens are all they cost.
        ModelSpec("text-embedding-3-small", input_price_per_million=0.02, rpm=3_000),
        ModelSpec("text-embedding-3-large", input_price_per_million=0.13, rpm=3_000),
    )
}


def load_registry(models_json: str | None = None) -> dict[str, ModelSpec]:
    """The built-in models with ``models_json`` (``INGEST_MODELS``) merged over them."""
    registry = dict(BUILTIN_MODELS)
    if not models_json:
        return registry
    try:
        extra = json.loads(models_json)
    except json.JSONDecodeError as exc:
        raise UnknownModel(f"INGEST_MODELS is not valid JSON: {exc.msg}") from exc
    if not isinstance(extra, dict):
        raise UnknownModel("INGEST_MODELS must be a JSON object of model name to fields")
    known = {f.name for f in fields(ModelSpec)} - {"name"}
    for name, values in extra.items():
        if not isinstance(values, dict) or set(values) - known:
            unknown = sorted(set(values) - known) if isinstance(values, dict) else values
            raise UnknownModel(f"INGEST_MODELS[{name!r}]: unknown fields {unknown}")
        registry[name] = replace(registry.get(name, ModelSpec(name)), **values)
    return registry


def get_model(name: str, registry: dict[str, ModelSpec]) -> ModelSpec:
    """The resolved spec of ``name``; `UnknownModel` listing the known ones otherwise."""
    spec = registry.get(name)
    if spec is None:
        raise UnknownModel(
            f"unknown model {name!r}; known models: {', '.join(sorted(registry))} "
            "(add one with INGEST_MODELS)"
        )
    return spec.resolved()
