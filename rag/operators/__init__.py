"""Operators: the model-backed jobs of a pipeline, each with an LLM and an offline version."""
