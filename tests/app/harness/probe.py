"""Drive the served app in headless Chromium: visit every page, screenshot it, time it.

    python -m tests.app.harness.probe --root DIR [--root DIR ...] [--index NAME]
                        [--out SHOTS] [--question TEXT ...] [--why PIPELINES]

starts `rag app` on a free port, waits for it, opens each page in Chromium (Debian's
`chromium`, driven by Playwright; no browser is downloaded), saves a whole-page screenshot of
each, asks the questions on the Ask page (three by default), screenshots the Why view of the
`--why` pipelines, and prints as JSON: the seconds until the server answered its health check,
until the first page had rendered, each question's time from click to answer shown and the
pipeline's own time, and the server's resident memory after every page was visited. The
browser test in tests/app uses the same functions (serving.py and browser.py beside this
file). Run it from a source checkout: the harness is not part of the installed package.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.app.harness.browser import tour
from tests.app.harness.serving import rss_mib, serve

#: Where screenshots go unless --out or RAG_APP_SCREENSHOTS says otherwise.
DEFAULT_SHOTS = Path(tempfile.gettempdir()) / "memrag-app-screenshots"


def main(argv: Sequence[str] | None = None) -> None:
    """Serve, tour, and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", action="append", type=Path, required=True)
    parser.add_argument("--index", default="", help="Index dir to start on (its label).")
    parser.add_argument(
        "--why",
        default="hipporag2,raptor-traverse,memorag-dense,ircot-dense",
        help="Pipelines whose Why tab is screenshot too (comma-separated; '' for none).",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(os.environ.get("RAG_APP_SCREENSHOTS", DEFAULT_SHOTS))
    )
    parser.add_argument(
        "--question",
        action="append",
        help="Questions for the Ask page (default: two about the bundled sample).",
    )
    args = parser.parse_args(argv)
    questions = args.question or [
        "When was the Hubble Space Telescope launched?",
        "Who designed the Eiffel Tower?",
        "Where was Marie Curie born?",
    ]
    with serve(args.root) as served:
        start = f"{served.url}/?index={args.index}" if args.index else served.url
        why = [p for p in args.why.split(",") if p]
        visit = tour(start, args.out, questions, why)
        report: dict[str, Any] = {
            "server_ready_s": round(served.startup_s, 2),
            **{k: round(v, 3) for k, v in visit.timings.items()},
            "rss_mib_after_all_pages": round(rss_mib(served.process.pid), 1),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "screenshots": visit.shots,
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
