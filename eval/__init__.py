"""Evaluation and benchmarks: retrieval quality, answer quality, speed and memory."""
