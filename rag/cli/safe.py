"""Making corpus and user strings safe to print: no terminal control, no markup, bounded size.

Every printer of the CLI passes text it did not write itself (passages, questions, answers,
quotes, titles, summaries, entity facts, file names) through `clean`, and builds rich `Text`
rather than markup, so that `[/]` or `[bold]` in a document is printed as it is written.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# C0 controls but tab and newline, DEL, and C1 controls (0x9b is a one-byte CSI on some
# terminals): each becomes its visible Unicode control picture, or U+FFFD where none exists.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_PICTURES = {**{c: chr(0x2400 + c) for c in range(0x20)}, 0x7F: "\u2421"}
# In JSON text these characters can only stand inside strings, where \u escapes are valid.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029]")

#: Characters of one printed answer or quote before it is cut (a runaway reply can be huge).
PRINT_LIMIT = 4000


def _picture(match: re.Match[str]) -> str:
    """The visible stand-in of one control character."""
    return _PICTURES.get(ord(match.group()), "\ufffd")


def clean(text: object, limit: int | None = None) -> str:
    """`text` as a string with control characters made visible (ESC shows as ␛), cut to `limit`."""
    value = str(text)
    if limit is not None and len(value) > limit:
        # Cut before cleaning: a 50 MB reply must not be scanned in full just to be dropped.
        value = f"{value[:limit]}… [{len(value) - limit:,} more characters not shown]"
    return _CONTROL.sub(_picture, value)


def one_line(text: object, width: int | None = None) -> str:
    """`text` on one line (whitespace runs folded), cut to `width` with "…", then `clean`ed."""
    value = str(text)
    if width is not None:
        value = value[: 4 * width + 4]  # folding only shortens: bound the work first
    value = " ".join(value.split())
    if width is not None and len(value) > width:
        value = value[: max(width - 1, 0)] + "…"
    return clean(value)


def _finite(data: Any) -> Any:
    """`data` with NaN and infinite floats replaced by None (JSON has no such numbers)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


def strict_json(data: Any, indent: int | None = 2) -> str:
    """Standard JSON (NaN and infinities become null), safe to write to a terminal."""
    text = json.dumps(
        _finite(data), indent=indent, ensure_ascii=False, allow_nan=False, default=str
    )
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
