"""The app served on 127.0.0.1 and opened in headless Chromium: every page renders its content,
and links planted inside the root that lead out of it are refused on every page.

Screenshots of each page go to $RAG_APP_SCREENSHOTS when set, else to pytest's temp folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.app.conftest import SECRET, AppRoot, Trap
from tests.app.harness.browser import CHROMIUM_ARGS, chromium_path, settle, snap, tour
from tests.app.harness.serving import serve

pytest.importorskip("playwright", reason="needs playwright (the test extra) to drive Chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="needs Debian's chromium (`apt-get install chromium`; .ci/run installs it)",
    ),
]
#: What a refused path's error card says.
REFUSED = "outside the app's roots"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots are written."""
    folder = os.environ.get("RAG_APP_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("screenshots")


def test_every_page_renders_in_chromium(app_root: AppRoot, shots: Path) -> None:
    env = {k: v for k, v in app_root.env.items() if k != "RAG_APP_ROOTS"}
    with serve([app_root.root, app_root.eval_indexes], env) as served:
        visit = tour(
            f"{served.url}/?index=root/demo",
            shots,
            ["When was the Hubble Space Telescope launched?"],
            why=["hipporag2"],
        )
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{served.url}/?index=root/broken")
            settle(page, "corrupt manifest")
            snap(page, shots / "7-error-card.png", 1400)
            broken = page.inner_text("body")
            browser.close()
    texts = visit.texts
    assert "root/demo" in texts["Indexes"] and "dense, bm25, graph, tree" in texts["Indexes"]
    assert "24 April 1990" in texts["Ask"] and "answered in" in texts["Ask"]
    assert "PageRank subgraph" in texts["Ask: why (hipporag2)"]
    assert "shared hits" in texts["Compare"]
    assert "recall@5" in texts["Evaluation"] and "bm25" in texts["Evaluation"]
    assert "synonymy edges" in texts["Graph"]
    assert "raptor" in texts["Tree"] and "Outline" in texts["Tree"]
    assert "Opening index dir" in broken and "Traceback" not in broken
    for path in visit.shots.values():
        assert Path(path).stat().st_size > 10_000


def test_links_out_of_the_root_are_refused_in_chromium(trap: Trap, shots: Path) -> None:
    """Issue 20's three bypasses, each refused on its page in a real browser."""
    from playwright.sync_api import sync_playwright

    env = {k: v for k, v in trap.env.items() if k != "RAG_APP_ROOTS"}
    seen: dict[str, str] = {}
    with serve([trap.root], env) as served, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{served.url}/?index=evil_idx")
        settle(page, "Opening index dir")
        # Each page's own error card title, so the previous page's card does not count.
        for title, card in (
            ("Tree", "Reading the tree of"),
            ("Graph", "Reading the knowledge graph of"),
            ("Evaluation", "evil_eval/records"),
        ):
            page.get_by_role("link", name=title).first.click()
            settle(page, card)
            snap(page, shots / f"refused-{title.lower()}.png", 1400)
            seen[title] = page.inner_text("body")
        page.goto(f"{served.url}/?index=clean")
        settle(page, "Passages")
        box = page.get_by_label("Open an index dir by path (under the roots)")
        box.fill("ghost")
        box.press("Enter")
        settle(page, ".ghost.old")
        snap(page, shots / "refused-ghost.png", 1400)
        seen["Indexes"] = page.inner_text("body")
        browser.close()
    for title in ("Tree", "Graph"):
        assert REFUSED in seen[title] and "evil_idx/" in seen[title], title
    assert REFUSED in seen["Evaluation"] and "evil_eval/records" in seen["Evaluation"]
    assert REFUSED in seen["Indexes"] and "added to the index choices" not in seen["Indexes"]
    for title, text in seen.items():
        assert SECRET not in text and "Traceback" not in text, title
