"""Driving the served app in headless Chromium (Debian's `chromium`, through Playwright; no
browser is downloaded): wait for Streamlit to settle, screenshot whole pages, tour every page."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Headless, no sandbox (CI runs as root), and no background requests to the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: The pages in navigation order, with texts one of which each shows once rendered (the
#: second: what it shows for an index without that kind, or for a broken one).
PAGES = [
    ("Indexes", ("Passages", "Opening index dir")),
    ("Ask", ("Answer with the reader", "Pick an index dir")),
    ("Compare", ("Pipeline B", "Pick an index dir")),
    ("Evaluation", ("Results folder", "No `rag eval --out` folder")),
    ("Graph", ("Search an entity", "There is no knowledge graph")),
    ("Tree", ("Outline", "There is no tree")),
]


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


#: True once the script run is over and no element is still a loading placeholder.
_IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector(
      '[data-testid="stSkeleton"], [data-testid="stSkeletonElement"], [data-stale="true"]');
}"""


def settle(page: Any, *texts: str, timeout_ms: float = 60_000) -> None:
    """Wait until one of `texts` shows and Streamlit has finished running the script."""
    page.wait_for_function(
        "(texts) => texts.some((t) => document.body.innerText.includes(t))",
        arg=list(texts),
        timeout=timeout_ms,
    )
    page.wait_for_function(_IDLE, timeout=timeout_ms)


@dataclass
class Visit:
    """What a tour of the app saw: page texts, screenshots and timings."""

    texts: dict[str, str] = field(default_factory=dict)
    shots: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def ask(page: Any, question: str) -> tuple[float, float]:
    """Type a question on the Ask page and press Ask: seconds until the answer shows in the
    browser, and the milliseconds the server says the pipeline took."""
    box = page.get_by_label("Question")
    box.fill(question)
    box.press("Enter")
    settle(page, "Answer with the reader")
    start = time.perf_counter()
    page.get_by_role("button", name="Ask", exact=True).click()
    # The result's heading names the question, so an earlier answer does not count.
    done = f"“{question}” · answered in"
    page.get_by_text(done).first.wait_for(timeout=60_000)
    seconds = time.perf_counter() - start
    settle(page, done)
    said = re.search(re.escape(done) + r" (\d+) ms", page.inner_text("body"))
    return seconds, float(said.group(1)) if said else float("nan")


def snap(page: Any, path: Path, width: int) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its main block, so the viewport
    is grown to the content's height first (up to 8000 px) and shrunk back after."""
    height = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight"
    )
    page.set_viewport_size({"width": width, "height": min(int(height) + 160, 8000)})
    page.wait_for_timeout(400)  # charts re-lay themselves out to the new size
    page.wait_for_function(_IDLE)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": width, "height": 1000})


def choose(page: Any, label: str, option: str) -> None:
    """Pick an option of the Streamlit selectbox labelled `label`."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.get_by_role("option", name=option, exact=True).click()


def why_shots(page: Any, out: Path, pipelines: Sequence[str], visit: Visit, width: int) -> None:
    """Ask with each pipeline and screenshot its Why tab (PageRank graph, tree path, ...)."""
    for name in pipelines:
        choose(page, "Pipeline", name)
        settle(page, f"{name} as YAML")
        page.get_by_role("button", name="Ask", exact=True).click()
        settle(page, f"{name} on ")
        page.get_by_text("Why", exact=True).first.click()
        settle(page, "Tree paths", "PageRank subgraph", "Clues", "Iterations", "No graph")
        shot = out / f"2-ask-why-{name}.png"
        snap(page, shot, width)
        visit.shots[f"Ask: why ({name})"] = str(shot)
        visit.texts[f"Ask: why ({name})"] = page.inner_text("body")


def tour(
    url: str,
    out: Path,
    questions: Sequence[str],
    why: Sequence[str] = (),
    width: int = 1400,
) -> Visit:
    """Open every page in one browser session; screenshot each; time the Ask page's answers.

    `url` may name the index to start on (`?index=demo`); `why` lists pipelines whose
    explanation panels are also screenshot on the Ask page.
    """
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    out.mkdir(parents=True, exist_ok=True)
    visit = Visit()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 1000})
        start = time.perf_counter()
        page.goto(url)
        settle(page, *PAGES[0][1])
        visit.timings["first_page_s"] = time.perf_counter() - start
        for n, (title, marker) in enumerate(PAGES):
            if n:
                page.get_by_role("link", name=title).first.click()
                settle(page, *marker)
            asking = title == "Ask" and "Answer with the reader" in page.inner_text("body")
            if asking and questions:
                for i, question in enumerate(questions, start=1):
                    shown, answered = ask(page, question)
                    visit.timings[f"ask_{i}_shown_s"] = shown
                    visit.timings[f"ask_{i}_answered_ms"] = answered
                page.get_by_text("Trace", exact=True).first.click()
                settle(page, "Step inputs and outputs")
            if title == "Compare" and "Pipeline B" in page.inner_text("body"):
                page.get_by_role("button", name="Compare", exact=True).click()
                settle(page, "shared hits")
            shot = out / f"{n + 1}-{title.lower()}.png"
            snap(page, shot, width)
            visit.shots[title] = str(shot)
            visit.texts[title] = page.inner_text("body")
            if asking:
                why_shots(page, out, why, visit, width)
        browser.close()
    return visit
