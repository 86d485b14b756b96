"""One rule for turning a pipeline spec (preset name, YAML path, object) into a Pipeline."""

from __future__ import annotations

import threading
from pathlib import Path

from pipelines.pipeline import Pipeline

_cache: dict[tuple[str, int], Pipeline] = {}
_lock = threading.Lock()


def _key(spec: str | Path) -> tuple[str, int]:
    """Presets by name; files by resolved path and modification time (an edit reloads)."""
    if isinstance(spec, str) and not spec.endswith((".yaml", ".yml")):
        return spec, 0
    path = Path(spec)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return str(path.resolve()), path.stat().st_mtime_ns
    return str(spec), 0


def resolve_pipeline(spec: str | Path | Pipeline) -> Pipeline:
    """The Pipeline a spec names, parsed once per preset or file version."""
    if isinstance(spec, Pipeline):
        return spec
    key = _key(spec)
    with _lock:
        if key not in _cache:
            _cache[key] = Pipeline.load(spec)
        return _cache[key]
