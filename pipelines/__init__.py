"""Composable query pipelines: steps over a QueryState, presets, and the RagIndex handle."""
