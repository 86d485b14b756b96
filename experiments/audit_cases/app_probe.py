"""Drive the inspector in Streamlit's AppTest and report what it showed, as one JSON line.

    python experiments/audit_cases/app_probe.py SPEC_JSON

SPEC: {"select": index dir or null, "typed": text for "Open an index dir by path" or null,
"pages": ["tree", "graph", "ask", "evaluation", ...], "secret": word, "question": text}.
The roots come from RAG_APP_ROOTS, as `rag app --root` sets them. Run from the repo root.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"


def shown(at: AppTest) -> str:
    """Everything the app rendered, as its protobufs (text, tables, labels, inputs)."""
    parts: list[str] = []
    todo: list[Any] = [at.main, at.sidebar]
    while todo:
        node = todo.pop()
        parts.append(str(getattr(node, "proto", "")))
        todo.extend(getattr(node, "children", {}).values())
    return "\n".join(parts)


def errors(at: AppTest) -> list[str]:
    """Every error card's text."""
    return [str(e.value) for e in at.error]


def probe(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the app through the spec's steps; note leaks, error cards and exceptions."""
    secret = spec["secret"]
    report: dict[str, Any] = {"leaks": [], "errors": [], "exceptions": [], "steps": []}

    def note(at: AppTest, step: str) -> None:
        """Record what one step showed."""
        report["steps"].append(step)
        if secret in shown(at):
            report["leaks"].append(step)
        report["errors"].extend(e for e in errors(at) if e not in report["errors"])
        report["exceptions"].extend(str(e.value)[:300] for e in at.exception)

    at = AppTest.from_file(str(MAIN), default_timeout=180).run()
    note(at, "start")
    if spec.get("typed") is not None:
        at.text_input(key="open_path").input(spec["typed"]).run()
        note(at, f"typed {spec['typed']}")
    if spec.get("select"):
        try:
            at.sidebar.selectbox(key="index_dir").set_value(Path(spec["select"])).run()
            note(at, "selected")
        except (KeyError, ValueError, IndexError) as exc:
            report["steps"].append(f"not offered: {str(exc)[:80]}")
    for page in spec.get("pages", []):
        at.switch_page(f"views/{page}.py").run()
        note(at, page)
        if page == "ask" and not at.error:
            try:
                at.selectbox(key="ask_preset").set_value("dense").run()
                at.text_input(key="ask_question").input(spec.get("question", "What?"))
                at.button(key="ask_run").click().run()
                note(at, "asked")
            except (KeyError, ValueError, IndexError) as exc:
                report["steps"].append(f"ask not possible: {exc}")
    return report


def main() -> None:
    """Parse the spec, probe, print the report."""
    print(json.dumps(probe(json.loads(sys.argv[1]))))


if __name__ == "__main__":
    main()
