"""LLM extraction tasks: schemas, versioned prompts, extractors and the result cache."""
