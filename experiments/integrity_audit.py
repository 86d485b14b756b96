"""Issue 20's integrity audit, re-run: bad inputs, faults and attacks through the real CLI.

    python experiments/integrity_audit.py --out /tmp/audit [--only ITEM[,ITEM]] [--list]

Builds its fixtures in a temp folder (one small corpus: rag/data/sample plus a few files;
indexes are built once and copied), runs every case in a subprocess with a timeout (as root
with the file-permission override capabilities dropped where permissions matter), and
classifies each as "handled well" by explicit criteria: no Python traceback; the expected
exit status (0 where the input is fine or skipped with a warning, non-zero with an error line
naming the file or setting where it is an error); the previous index byte-identical and
answering identically after a failed build; nothing outside `--root` shown by the app; no hang.
Writes OUT/report.md and OUT/cases.json and prints the report. Items are issue 20's 1-18;
"R" holds promises of the README and docs that the issue did not list.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_cases.llm_server import LLMServer, free_port

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "rag" / "data" / "sample"
Q = "Who designed the Eiffel Tower?"
SECRET = "QZSECRET"
TRACEBACK = "Traceback (most recent call last)"
CAPS = "-dac_override,-dac_read_search,-fowner"
DROP_CAPS = ["setpriv", "--bounding-set", CAPS, "--inh-caps", CAPS, "--"]
PIPE_OF = {"dense": "dense", "bm25": "bm25", "graph": "hipporag2", "tree": "raptor"}
ITEMS = [str(i) for i in range(1, 19)] + ["R"]
TITLES = {
    "1": "app: symlinked kinds/files in an index dir; typed outside paths",
    "2": "app: symlinked records/ in an eval folder",
    "3": "app: retired-copy (.NAME.old) fallback",
    "4": "unreadable sub-folder/file keeps its passages",
    "5": "--rebuild after a damaged manifest keeps every kind",
    "6": "links out of the root; index dir inside its source",
    "7": "garbage LLM replies not used or cached",
    "8": "byte flips in index files are errors",
    "9": "legacy code pages",
    "10": "FIFO, /dev/zero, sockets as inputs",
    "11": "trickling / silent LLM server",
    "12": "huge LLM replies; long answers printed",
    "13": "malformed JSON inputs, bad file names",
    "14": "disk full",
    "15": "damaged / zero-byte index files, shape checks",
    "16": "opens during swaps; interrupted swap",
    "17": "bad pipelines and settings, output paths",
    "18": "printing: escapes, markup, strict JSON",
    "R": "README extras: kill -9, YAML tags, LLM errors, CLI inputs",
}


@dataclass
class Run:
    """One finished (or killed) subprocess."""

    argv: list[str]
    rc: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool


@dataclass
class Result:
    """One case's verdict."""

    item: str
    name: str
    ok: bool
    why: list[str]
    seconds: float
    rc: int | None = None
    stderr_tail: str = ""
    note: str = ""
    message: str = ""


@dataclass
class Verdict:
    """What a case found wrong, and the runs it made."""

    why: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    note: str = ""

    def check(self, cond: bool, msg: str) -> bool:
        """Record `msg` as a failure unless `cond` holds."""
        if not cond:
            self.why.append(msg)
        return cond

    def clean(self, run: Run) -> bool:
        """No hang and no traceback."""
        self.runs.append(run)
        ok = self.check(not run.timed_out, f"timed out after {run.seconds:.0f}s")
        return self.check(TRACEBACK not in run.stderr + run.stdout, "Python traceback") and ok

    def fine(self, run: Run) -> bool:
        """A run that must succeed: clean and exit 0."""
        ok = self.clean(run)
        return self.check(run.rc == 0, f"exit {run.rc}, expected 0") and ok

    def error(self, run: Run, *names: str) -> bool:
        """A run that must fail with a short error naming one of `names` (case-insensitive)."""
        ok = self.clean(run)
        if not self.check(run.rc not in (0, None), f"exit {run.rc}, expected an error"):
            return False
        lines = error_lines(run.stderr)
        ok = self.check(bool(lines), "no error line on stderr") and ok
        ok = self.check(len(lines) <= 4, f"error is {len(lines)} lines long") and ok
        text = "\n".join(lines).lower()
        if names:
            ok = (
                self.check(
                    any(n.lower() in text for n in names), f"error names none of {list(names)}"
                )
                and ok
            )
        return ok


def error_lines(stderr: str) -> list[str]:
    """The error message's lines: from the last 'error:' line (else the first 'Error') on."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    starts = [i for i, ln in enumerate(lines) if ln.lstrip().lower().startswith("error:")]
    if not starts:
        starts = [i for i, ln in enumerate(lines) if "Error:" in ln or "│ error" in ln.lower()]
    if not starts:
        return lines[-1:]
    rest = [ln for ln in lines[starts[-1] :] if "INFO" not in ln[:30] and "WARNING" not in ln[:30]]
    return [ln for ln in rest if not ln.lstrip().startswith(("Usage:", "Try '"))]


def sha_tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` (links not followed) by relative path: its SHA-256."""
    out: dict[str, str] = {}
    if not folder.exists():
        return out
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def passages(index: Path) -> dict[str, tuple[str, str]]:
    """The passage store read directly: id -> (text, source)."""
    with contextlib.closing(
        sqlite3.connect(f"file:{index / 'passages.sqlite'}?mode=ro", uri=True)
    ) as db:
        rows = db.execute("SELECT id, text, COALESCE(source, '') FROM passages").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def texts_of(index: Path, source_part: str) -> str:
    """All passage text whose source (or any linked source) contains `source_part`."""
    uri = f"file:{index / 'passages.sqlite'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute(
            "SELECT p.text FROM passages p LEFT JOIN passage_sources s ON s.passage_id = p.id "
            "WHERE p.source LIKE ? OR s.source LIKE ?",
            (f"%{source_part}%", f"%{source_part}%"),
        ).fetchall()
    return "\n".join(r[0] for r in rows)


def strict_json(text: str) -> Any:
    """Parse `text` as strict JSON: NaN and infinities are errors."""

    def refuse(word: str) -> Any:
        """Reject a non-standard constant."""
        raise ValueError(f"non-standard JSON constant {word}")

    return json.loads(text, parse_constant=refuse)


def flip(path: Path, count: int = 64) -> None:
    """Invert `count` bytes in the middle of `path`, keeping its size."""
    data = bytearray(path.read_bytes())
    start = max(0, len(data) // 2 - count // 2)
    for i in range(start, min(len(data), start + count)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


class Ctx:
    """The audit's workspace: shared cache, corpus, built indexes, and how to run the CLI."""

    def __init__(self, work: Path, timeout: float) -> None:
        """Lay out the workspace (the fixtures themselves are built lazily)."""
        self.work = work
        self.timeout = timeout
        self.cache = work / "cache"
        self.cache.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "RAG_EMBEDDER__PRECISION": os.environ.get("RAG_EMBEDDER__PRECISION", "bf16"),
            "RAG_CACHE_DIR": str(self.cache),
            "RAG_SHOW_PROGRESS": "false",
            "COLUMNS": "300",
            "PYTHONPATH": str(REPO),
        }
        for key in [k for k in self.env if k.startswith("RAG_LLM")]:
            del self.env[key]
        self.memo: dict[str, Any] = {}
        self.counter = 0
        self.mounts: list[Path] = []

    def case_dir(self, name: str) -> Path:
        """A fresh folder for one case."""
        self.counter += 1
        path = self.work / "cases" / f"{self.counter:03d}-{name.replace('/', '_')[:40]}"
        path.mkdir(parents=True)
        return path

    def run(
        self,
        argv: list[str],
        env: dict[str, str] | None = None,
        timeout: float | None = None,
        caps: bool = False,
        cwd: Path | None = None,
    ) -> Run:
        """Run `argv` in its own process group; kill the group at the timeout."""
        full = (DROP_CAPS if caps else []) + argv
        start = time.monotonic()
        proc = subprocess.Popen(
            full,
            env={**self.env, **(env or {})},
            cwd=str(cwd or REPO),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout or self.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            timed_out = True
        return Run(
            [str(a) for a in argv],
            None if timed_out else proc.returncode,
            out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"),
            time.monotonic() - start,
            timed_out,
        )

    def rag(self, *args: str | Path, **kw: Any) -> Run:
        """Run the `rag` CLI."""
        return self.run(["rag", *[str(a) for a in args]], **kw)

    def hits(self, index: Path, pipeline: str = "dense", **kw: Any) -> list[str] | None:
        """The hit ids of the audit question, or None when the query failed."""
        run = self.rag("query", index, Q, "--json", "--no-answer", "-p", pipeline, **kw)
        if run.rc != 0:
            return None
        try:
            return [h["passage_id"] for h in strict_json(run.stdout)["hits"]]
        except (ValueError, KeyError):
            return None

    # ---- fixtures -------------------------------------------------------------------------

    @property
    def corpus(self) -> Path:
        """rag/data/sample plus a note and a sub-folder."""
        if "corpus" not in self.memo:
            corpus = self.work / "corpus"
            shutil.copytree(SAMPLE, corpus)
            (corpus / "notes.txt").write_text(
                "Field notes. The lighthouse keeper logged every storm in a leather book.\n",
                encoding="utf-8",
            )
            (corpus / "sub").mkdir()
            (corpus / "sub" / "rivers.md").write_text(
                "# Rivers\n\nThe Amazon River carries more water than any other river.\n",
                encoding="utf-8",
            )
            self.memo["corpus"] = corpus
        return self.memo["corpus"]

    @property
    def full(self) -> Path:
        """The corpus indexed with all four kinds (offline OpenIE, extractive summaries)."""
        if "full" not in self.memo:
            out = self.work / "full"
            run = self.rag(
                "index", self.corpus, "--out", out, "--kinds", "dense,bm25,graph,tree",
                "--extractor", "offline", timeout=600,
            )  # fmt: skip
            if run.rc != 0:
                raise RuntimeError(f"fixture build failed:\n{run.stderr[-3000:]}")
            self.memo["full"] = out
        return self.memo["full"]

    def baseline(self, pipeline: str = "dense") -> list[str] | None:
        """The full index's hits for the audit question with `pipeline` (memoized)."""
        key = f"hits:{pipeline}"
        if key not in self.memo:
            self.memo[key] = self.hits(self.full, pipeline)
        return self.memo[key]

    def copy_full(self, dest: Path) -> Path:
        """A copy of the full index at `dest`."""
        shutil.copytree(self.full, dest, symlinks=True)
        return dest

    def copy_corpus(self, dest: Path) -> Path:
        """A copy of the corpus at `dest`."""
        shutil.copytree(self.corpus, dest, symlinks=True)
        return dest

    def llm_env(self, server: LLMServer | str, **extra: str) -> dict[str, str]:
        """Settings pointing memrag at an audit server (or a base URL)."""
        url = server if isinstance(server, str) else server.base_url
        env = {
            "RAG_LLM__PROVIDER": "openai",
            "RAG_LLM__MODEL": "stub",
            "RAG_LLM__BASE_URL": url,
            "RAG_LLM__API_KEY_ENV": "MEMRAG_AUDIT_NO_SUCH_KEY",
            "RAG_LLM__MAX_RETRIES": "1",
            "RAG_LLM__TIMEOUT_S": "5",
        }
        env.update(extra)
        return env


# ---- the case registry ------------------------------------------------------------------

CaseFn = Callable[[Ctx, Verdict], None]
CASES: list[tuple[str, str, CaseFn]] = []


def case(item: str, name: str) -> Callable[[CaseFn], CaseFn]:
    """Register a case under an item."""

    def register(fn: CaseFn) -> CaseFn:
        """Add `fn` to the registry."""
        CASES.append((item, name, fn))
        return fn

    return register


def add(item: str, name: str, fn: CaseFn) -> None:
    """Register a parametrized case."""
    CASES.append((item, name, fn))


def intact(ctx: Ctx, v: Verdict, index: Path, before: dict[str, str], pipeline: str) -> None:
    """The previous index is byte-identical and answers as before."""
    v.check(sha_tree(index) == before, f"{index.name} changed after the failed build")
    v.check(
        ctx.hits(index, pipeline) == ctx.baseline(pipeline), "previous index answers differently"
    )


# ---- items 1-3: the inspector's roots -----------------------------------------------------


def app_trap(ctx: Ctx) -> dict[str, Path]:
    """Outside: a secret index (all kinds) and eval run, each carrying SECRET."""
    if "trap" in ctx.memo:
        return ctx.memo["trap"]
    out = ctx.work / "outside"
    docs = out / f"docs_{SECRET}"
    docs.mkdir(parents=True)
    for i, place in enumerate(["old mill", "north tower", "harbour crane"]):
        (docs / f"vault_{SECRET}_{i}.txt").write_text(
            f"The {SECRET} vault under the {place} opens with the code 77{i}1. "
            f"{SECRET} Agent Morrow guards the {place} vault every night.\n",
            encoding="utf-8",
        )
    secret_idx = out / "secret_idx"
    run = ctx.rag(
        "index", docs, "--out", secret_idx, "--kinds", "dense,bm25,graph,tree",
        "--extractor", "offline", timeout=600,
    )  # fmt: skip
    if run.rc != 0:
        raise RuntimeError(f"secret index failed: {run.stderr[-2000:]}")
    ds = out / f"ds_{SECRET}"
    ds.mkdir()
    corpus = [
        {"title": f"{SECRET} vault", "text": f"The {SECRET} vault opens with code 7741."},
        {"title": "Eiffel Tower", "text": "The Eiffel Tower in Paris was completed in 1889."},
    ]
    (ds / "corpus.json").write_text(json.dumps(corpus))
    questions = [
        {
            "id": f"q{i}",
            "question": f"{SECRET} question {i}: what opens the vault?",
            "answer": "7741",
            "answer_aliases": [],
            "paragraphs": [
                {"title": c["title"], "paragraph_text": c["text"], "is_supporting": j == 0}
                for j, c in enumerate(corpus)
            ],
        }
        for i in range(2)
    ]
    (ds / "questions.json").write_text(json.dumps(questions))
    secret_eval = out / "secret_eval"
    run = ctx.rag("eval", "-d", ds, "-p", "bm25", "-o", secret_eval, timeout=600)
    if run.rc != 0 or not (secret_eval / "records").is_dir():
        raise RuntimeError(f"secret eval failed: {run.stderr[-2000:]}")
    ctx.memo["trap"] = {"index": secret_idx, "eval": secret_eval}
    return ctx.memo["trap"]


def app_probe(ctx: Ctx, v: Verdict, root: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Run the AppTest probe on `root`; fail the case on a leak, an exception or a hang."""
    spec = {"secret": SECRET, "question": "What opens the vault under the old mill?", **spec}
    run = ctx.run(
        [sys.executable, str(REPO / "experiments" / "audit_cases" / "app_probe.py"),
         json.dumps(spec)],
        env={"RAG_APP_ROOTS": str(root)},
        timeout=400,
    )  # fmt: skip
    if not v.clean(run) or not v.check(run.rc == 0, f"probe exit {run.rc}"):
        return {}
    report = json.loads(run.stdout.strip().splitlines()[-1])
    v.check(not report["leaks"], f"SECRET shown at steps {report['leaks']}")
    v.check(not report["exceptions"], f"app exceptions: {report['exceptions'][:2]}")
    v.note = f"steps={report['steps']} errors={[e[:120] for e in report['errors']][:3]}"
    return report


def app_root_with(ctx: Ctx, name: str) -> Path:
    """A fresh app root holding a clean copy of the full index."""
    root = ctx.case_dir(name) / "root"
    root.mkdir()
    ctx.copy_full(root / "clean")
    return root


def linked_kind_case(kind: str, pages: list[str]) -> CaseFn:
    """An index dir under the root whose `kind` (folder or file) links to the secret index."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Build the trap and probe the pages."""
        trap = app_trap(ctx)
        root = app_root_with(ctx, f"link-{kind}")
        evil = ctx.copy_full(root / "evil_idx")
        target = evil / kind
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
        target.symlink_to(trap["index"] / kind, target_is_directory=(trap["index"] / kind).is_dir())
        app_probe(ctx, v, root, {"select": str(evil), "pages": pages})

    return run


for _kind, _pages in [
    ("tree", ["tree"]),
    ("graph", ["graph"]),
    ("passages.sqlite", ["indexes", "ask"]),
    ("manifest.json", ["indexes"]),
    ("dense", ["ask"]),
]:
    add("1", f"symlinked {_kind} in an index dir under the root", linked_kind_case(_kind, _pages))


def typed_case(how: str) -> CaseFn:
    """Type an outside path into "Open an index dir by path"."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Plant the path and type it."""
        trap = app_trap(ctx)
        root = app_root_with(ctx, f"typed-{how}")
        typed = {
            "dotdot": os.path.relpath(trap["index"], root),
            "absolute": str(trap["index"]),
            "escape-link": "escape",
        }[how]
        if how == "escape-link":
            (root / "escape").symlink_to(trap["index"], target_is_directory=True)
        report = app_probe(ctx, v, root, {"typed": typed, "pages": ["indexes"]})
        if report:
            v.check(
                any("outside" in e for e in report["errors"]), "no refusal shown for the typed path"
            )

    return run


for _how in ("dotdot", "absolute", "escape-link"):
    add("1", f"typed outside path ({_how})", typed_case(_how))


def eval_case(how: str) -> CaseFn:
    """An eval folder under the root whose records lead outside."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Plant the eval folder and open the Evaluation page."""
        trap = app_trap(ctx)
        root = app_root_with(ctx, f"eval-{how}")
        evil = root / "evil_eval"
        evil.mkdir()
        shutil.copy(trap["eval"] / "summary.json", evil / "summary.json")
        if how == "records-folder":
            (evil / "records").symlink_to(trap["eval"] / "records", target_is_directory=True)
        elif how == "record-file":
            (evil / "records").mkdir()
            for rec in (trap["eval"] / "records").glob("*.jsonl"):
                (evil / "records" / rec.name).symlink_to(rec)
        else:  # the whole eval folder is a link
            shutil.rmtree(evil)
            evil.symlink_to(trap["eval"], target_is_directory=True)
        app_probe(ctx, v, root, {"pages": ["evaluation"]})

    return run


for _how in ("records-folder", "record-file", "eval-folder-link"):
    add("2", f"eval folder: symlinked {_how}", eval_case(_how))


def ghost_case(how: str) -> CaseFn:
    """`.ghost.old` under the root links to the secret index; `ghost` does not exist."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Type the ghost's name (or its path) and visit the pages that read passages."""
        trap = app_trap(ctx)
        root = app_root_with(ctx, f"ghost-{how}")
        (root / ".ghost.old").symlink_to(trap["index"], target_is_directory=True)
        typed = "ghost" if how == "name" else str(root / "ghost")
        report = app_probe(
            ctx, v, root, {"typed": typed, "select": str(root / "ghost"), "pages": ["ask"]}
        )
        if report:
            v.check(
                any(".ghost.old" in e for e in report["errors"]), "no refusal naming .ghost.old"
            )

    return run


for _how in ("name", "path"):
    add("3", f"retired copy .ghost.old -> outside, typed as its {_how}", ghost_case(_how))


@case("3", "retired copy inside the root (a swap caught mid-way) is served")
def _ghost_inside(ctx: Ctx, v: Verdict) -> None:
    """A real `.mid.old` inside the root with no `mid`: the app may open it (no leak)."""
    root = app_root_with(ctx, "ghost-inside")
    shutil.copytree(ctx.full, root / ".mid.old")
    report = app_probe(ctx, v, root, {"typed": "mid", "pages": ["indexes"]})
    if report:
        v.check(not any("outside" in e for e in report["errors"]), "inside copy refused")


# ---- item 4: unreadable inputs keep their passages ----------------------------------------


def unreadable_case(how: str) -> CaseFn:
    """Index, make part of the corpus unreadable, re-index without DAC caps, restore."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Three builds: clean, unreadable (caps dropped), readable again."""
        d = ctx.case_dir(f"unreadable-{how}")
        corpus = ctx.copy_corpus(d / "corpus")
        idx = d / "idx"
        if not v.fine(ctx.rag("index", corpus, "--out", idx, "--json")):
            return
        before = set(passages(idx))
        target = corpus / ("sub" if how in ("folder-000", "folder-311") else "notes.txt")
        if how == "root-000":
            target = corpus
        mode = {"folder-000": 0, "folder-311": 0o311, "file-000": 0, "root-000": 0}.get(how)
        if how == "dangling-link":
            target.unlink()
            target.symlink_to(d / "nowhere.txt")
        else:
            assert mode is not None
            target.chmod(mode)
        try:
            run2 = ctx.rag("index", corpus, "--out", idx, "--json", caps=True)
        finally:
            if how != "dangling-link":
                target.chmod(0o755 if target.is_dir() else 0o644)
        if how == "root-000" and run2.rc != 0:  # the only root unreadable: an error is fine
            v.error(run2, "corpus")
            v.check(set(passages(idx)) == before, "passages differ after the refused run")
        else:
            v.fine(run2)
        if run2.rc == 0:
            report = json.loads(run2.stdout)
            v.check(report.get("removed") == 0, f"removed {report.get('removed')} passages")
            v.check(bool(report.get("skipped")), "nothing listed as skipped")
            v.check(set(passages(idx)) == before, "passages differ after the unreadable run")
        if how == "dangling-link":
            return
        run3 = ctx.rag("index", corpus, "--out", idx, "--json", caps=True)
        if v.fine(run3):
            v.check(json.loads(run3.stdout).get("removed") == 0, "readable again: removed > 0")
            v.check(set(passages(idx)) == before, "passages differ once readable again")

    return run


for _how in ("folder-000", "folder-311", "file-000", "root-000", "dangling-link"):
    add("4", f"unreadable input: {_how}", unreadable_case(_how))


# ---- item 5: --rebuild after a damaged manifest ---------------------------------------------


def manifest_case(how: str) -> CaseFn:
    """Damage the manifest of a four-kind index and rebuild it."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Damage, rebuild with the corpus named, check the kinds."""
        idx = ctx.copy_full(ctx.case_dir(f"manifest-{how}") / "idx")
        manifest = idx / "manifest.json"
        if how == "garbage":
            manifest.write_text("{ not json")
        elif how == "zero-bytes":
            manifest.write_bytes(b"")
        elif how == "deleted":
            manifest.unlink()
        elif how == "no-indexes-key":
            data = json.loads(manifest.read_text())
            del data["indexes"]
            manifest.write_text(json.dumps(data))
        r = ctx.rag("index", ctx.corpus, "--out", idx, "--rebuild", "--json", timeout=400)
        if v.fine(r):
            kinds = json.loads((idx / "manifest.json").read_text()).get("indexes", [])
            v.check({"graph", "tree"} <= set(kinds), f"kinds after rebuild: {kinds}")
            v.check((idx / "graph").is_dir() and (idx / "tree").is_dir(), "graph/tree deleted")
            v.check("graph" in r.stderr and "tree" in r.stderr, "no warning naming the kinds")

    return run


for _how in ("garbage", "zero-bytes", "deleted", "no-indexes-key"):
    add("5", f"--rebuild after manifest {_how}", manifest_case(_how))


# ---- item 6: links out of the root; index dirs inside sources -------------------------------


def link_out_case(kind: str) -> CaseFn:
    """A link in the corpus to a file or folder outside it; the link removed later."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Index with the link, remove it, index again: its passages are gone."""
        d = ctx.case_dir(f"linkout-{kind}")
        corpus = ctx.copy_corpus(d / "corpus")
        outside = d / "outside"
        outside.mkdir()
        (outside / "walrus.txt").write_text(
            "The walrus colony of Svalbard numbers about three thousand animals.\n"
        )
        link = corpus / ("ext.txt" if kind == "file" else "extdir")
        link.symlink_to(outside / "walrus.txt" if kind == "file" else outside)
        idx = d / "idx"
        r = ctx.rag("index", corpus, "--out", idx, "--json")
        if not v.fine(r):
            return
        if not any("walrus" in t for t, _ in passages(idx).values()):
            # Not following a link out of the folder is a choice; it must be said, though.
            v.check(link.name in r.stdout + r.stderr, "linked text neither indexed nor reported")
            v.note = "the link was not followed"
            return
        link.unlink()
        if v.fine(ctx.rag("index", corpus, "--out", idx)):
            v.check(
                not any("walrus" in t for t, _ in passages(idx).values()),
                "passages of the removed link remain",
            )

    return run


add("6", "link to a file outside the folder, removed later", link_out_case("file"))
add("6", "link to a folder outside the folder, removed later", link_out_case("folder"))


def self_index_case(where: str, kinds: str) -> CaseFn:
    """An index dir inside its own source folder, built three times."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """The passage count never grows and no index file becomes a passage."""
        d = ctx.case_dir(f"self-{where}")
        corpus = ctx.copy_corpus(d / "corpus")
        idx = corpus / where
        counts = []
        for _ in range(3):
            r = ctx.rag("index", corpus, "--out", idx, "--kinds", kinds, "--extractor",
                        "offline", timeout=400)  # fmt: skip
            if not v.fine(r):
                return
            counts.append(len(passages(idx)))
        expected = len(passages(ctx.full))
        v.check(counts == [expected] * 3, f"passage counts {counts}, expected {expected}")
        inner = str(corpus / where.split("/")[0]) + os.sep
        v.check(
            not any(s.startswith(inner) for _, s in passages(idx).values()),
            "index files indexed",
        )

    return run


add("6", "index dir inside its source folder", self_index_case("idx", "dense,bm25"))
add(
    "6",
    "index dir deep inside its source, graph+tree",
    self_index_case("a/b/idx", "dense,bm25,graph,tree"),
)


@case("6", "another memrag index dir lying in the source folder")
def _foreign_index(ctx: Ctx, v: Verdict) -> None:
    """A copy of an index (manifest.json + passages.sqlite) in the corpus is never indexed."""
    d = ctx.case_dir("foreign-index")
    corpus = ctx.copy_corpus(d / "corpus")
    ctx.copy_full(corpus / "old_index")
    idx = d / "idx"
    if v.fine(ctx.rag("index", corpus, "--out", idx)):
        srcs = {s for _, s in passages(idx).values()}
        v.check(not any("old_index" in s for s in srcs), "files of the index dir were indexed")


# ---- item 7: garbage LLM replies -------------------------------------------------------------


def garbage_answer_case(mode: str) -> CaseFn:
    """A 200 reply that is not an answer; then the same server healthy again."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Ask twice with one LLM cache: the garbage is never the answer nor cached."""
        d = ctx.case_dir(f"garbage-{mode}")
        env = {"RAG_CACHE_DIR": str(d / "cache")}
        shutil.copytree(ctx.cache / "openvino", d / "cache" / "openvino", dirs_exist_ok=True)
        with LLMServer(mode) as server:
            env.update(ctx.llm_env(server))
            r1 = ctx.rag("query", ctx.full, Q, "--json", env=env)
            v.clean(r1)
            if r1.rc == 0:
                answer = strict_json(r1.stdout).get("text", "")
                v.check("<html" not in answer and "foo" not in answer, f"answer was {answer!r}")
            else:
                v.error(r1)
            server.mode = "ok"
            asked = server.requests
            r2 = ctx.rag("query", ctx.full, Q, "--json", env=env)
            if v.fine(r2):
                answer = strict_json(r2.stdout).get("text", "")
                v.check("Eiffel" in answer, f"healthy run answered {answer!r}")
                v.check(server.requests > asked, "healthy run answered from the cache")

    return run


for _mode in ("html_content", "html_body", "offschema", "empty_choices"):
    add("7", f"reader reply {_mode}, then healthy", garbage_answer_case(_mode))


@case("7", "cache key includes the endpoint")
def _endpoint_key(ctx: Ctx, v: Verdict) -> None:
    """Two servers, one cache: the second answers for itself."""
    d = ctx.case_dir("endpoint")
    env = {"RAG_CACHE_DIR": str(d / "cache")}
    shutil.copytree(ctx.cache / "openvino", d / "cache" / "openvino", dirs_exist_ok=True)
    with LLMServer("ok", answer="Alpha Answer") as a, LLMServer("ok", answer="Bravo Answer") as b:
        ra = ctx.rag("query", ctx.full, Q, "--json", env={**env, **ctx.llm_env(a)})
        rb = ctx.rag("query", ctx.full, Q, "--json", env={**env, **ctx.llm_env(b)})
        if v.fine(ra) and v.fine(rb):
            v.check("Bravo" in strict_json(rb.stdout).get("text", ""), "B answered with A's reply")


@case("7", "OpenIE against an HTML-200 server, then --rebuild against a healthy one")
def _openie_garbage(ctx: Ctx, v: Verdict) -> None:
    """No empty extraction is kept: the healthy rebuild extracts entities."""
    d = ctx.case_dir("openie-garbage")
    env = {"RAG_CACHE_DIR": str(d / "cache")}
    shutil.copytree(ctx.cache / "openvino", d / "cache" / "openvino", dirs_exist_ok=True)
    idx = d / "idx"
    args = ["index", SAMPLE, "--out", idx, "--kinds", "dense,bm25,graph", "--extractor", "llm"]
    with LLMServer("html_content") as server:
        env.update(ctx.llm_env(server))
        r1 = ctx.rag(*args, env=env, timeout=300)
        v.clean(r1)
        if r1.rc != 0:
            v.error(r1)
        server.mode = "ok"
        r2 = ctx.rag(*args, "--rebuild", env=env, timeout=300)
        if v.fine(r2):
            g = ctx.rag("inspect", idx, "--graph", "--json")
            if v.fine(g):
                text = g.stdout
                v.check("Gustave Eiffel" in text or '"entities": 0' not in text, "no entities")
                data = strict_json(text)
                count = data.get("entities") or data.get("counts", {}).get("entities")
                v.note = f"entities after healthy rebuild: {count}"
                v.check(bool(count), f"entities after healthy rebuild: {count}")


@case("7", "tree summaries against an HTML-200 server")
def _summary_garbage(ctx: Ctx, v: Verdict) -> None:
    """No tree node's text is the error page."""
    d = ctx.case_dir("summary-garbage")
    env = {"RAG_CACHE_DIR": str(d / "cache"), "RAG_TREE__SUMMARIZER": "llm"}
    shutil.copytree(ctx.cache / "openvino", d / "cache" / "openvino", dirs_exist_ok=True)
    idx = d / "idx"
    with LLMServer("html_content") as server:
        env.update(ctx.llm_env(server))
        r = ctx.rag("index", ctx.corpus, "--out", idx, "--kinds", "dense,bm25,tree", env=env,
                    timeout=300)  # fmt: skip
        v.clean(r)
        if r.rc == 0:
            nodes = (idx / "tree" / "nodes.jsonl").read_text(encoding="utf-8")
            v.check("502 Bad Gateway" not in nodes, "an error page stored as a summary")
        else:
            v.error(r)
            v.check(not idx.exists(), "a failed build left an index")


# ---- items 8 and 15: damaged index files ----------------------------------------------------


def index_files(ctx: Ctx) -> list[str]:
    """The files the full index's manifest lists."""
    return sorted(json.loads((ctx.full / "manifest.json").read_text())["files"])


def pipeline_for(rel: str) -> str:
    """The preset that reads a file of the index."""
    return PIPE_OF.get(rel.split("/")[0], "dense")


def damage_query_case(rel: str, how: str) -> CaseFn:
    """Damage one file; a query through its kind errs naming it (or answers as before)."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Damage a copy and query it."""
        idx = ctx.copy_full(ctx.case_dir(f"{how}-{rel}") / "idx")
        path = idx / rel
        if how == "flip":
            flip(path)
        else:
            path.write_bytes(b"")
        pipe = pipeline_for(rel)
        r = ctx.rag("query", idx, Q, "--json", "--no-answer", "-p", pipe)
        v.clean(r)
        if r.rc == 0:
            got = [h["passage_id"] for h in strict_json(r.stdout)["hits"]]
            v.check(got == ctx.baseline(pipe), f"{pipe} ranking changed with no error")
            v.note = "query unaffected (file not read by this pipeline)"
        else:
            v.error(r, Path(rel).name)
            v.check("rebuild" in r.stderr, "no rebuild hint")

    return run


def damage_inspect_case(rel: str) -> CaseFn:
    """Flip bytes in one file; `rag inspect` (checks every file) errs naming it."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Damage a copy and inspect it."""
        idx = ctx.copy_full(ctx.case_dir(f"inspect-{rel}") / "idx")
        flip(idx / rel)
        v.error(ctx.rag("inspect", idx), Path(rel).name)

    return run


QUERY_FLIPS = [
    "dense/index.faiss",
    "bm25/bm25s/data.csc.index.npy",
    "bm25/bm25s/indices.csc.index.npy",
    "bm25/tokens.npy",
    "graph/entity_vectors.npy",
    "graph/fact_vectors.npy",
    "graph/passage_vectors.npy",
    "graph/csr_weights.npy",
    "tree/vectors.npy",
    "passages.sqlite",
]
ZERO_FILES = [
    "dense/index.faiss",
    "dense/passage_ids.json",
    "bm25/tokens.npy",
    "bm25/bm25s/indptr.csc.index.npy",
    "graph/csr_indptr.npy",
    "graph/synonymy_pairs.npy",
    "graph/entity_vectors.npy",
    "graph/graph.json",
    "tree/vectors.npy",
    "tree/nodes.jsonl",
    "passages.sqlite",
]
for _rel in QUERY_FLIPS:
    add("8", f"64 flipped bytes in {_rel}, query", damage_query_case(_rel, "flip"))
for _rel in ZERO_FILES:
    add("15", f"zero-byte {_rel}, query", damage_query_case(_rel, "zero"))


@case("8", "flips in every listed file: rag inspect names each")
def _inspect_all(ctx: Ctx, v: Verdict) -> None:
    """One sub-check per file of the manifest (counted as one case; the misses are listed)."""
    missed = []
    for rel in index_files(ctx):
        idx = ctx.copy_full(ctx.case_dir("inspect-all") / "idx")
        flip(idx / rel)
        sub = Verdict()
        if not sub.error(ctx.rag("inspect", idx), Path(rel).name):
            missed.append(f"{rel}: {'; '.join(sub.why)}")
        v.runs.extend(sub.runs)
    v.check(not missed, f"{len(missed)} of {len(index_files(ctx))} missed: {missed[:4]}")
    v.note = f"{len(index_files(ctx))} files flipped one at a time"


def pre_checksum_case(name: str, damage: Callable[[Path], None], cmd: list[str]) -> CaseFn:
    """An index from before checksums (no `files` in its manifest), damaged in shape."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Drop the checksums, damage, run `cmd` (IDX stands for the index)."""
        idx = ctx.copy_full(ctx.case_dir(f"shape-{name}") / "idx")
        manifest = json.loads((idx / "manifest.json").read_text())
        manifest.pop("files", None)
        (idx / "manifest.json").write_text(json.dumps(manifest))
        damage(idx)
        r = ctx.rag(*[str(idx) if a == "IDX" else a for a in cmd])
        v.clean(r)
        if r.rc == 0 and "query" in cmd:
            pipe = cmd[cmd.index("-p") + 1]
            got = [h["passage_id"] for h in strict_json(r.stdout)["hits"]]
            v.check(got == ctx.baseline(pipe), "ranking changed with no error")
        else:
            v.error(r, name.split(":")[0])

    return run


def _np_edit(rel: str, fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    """Rewrite one .npy file of an index through `fn`."""

    def edit(idx: Path) -> None:
        """Load, change, save."""
        arr = np.load(idx / rel, allow_pickle=False)
        np.save(idx / rel, fn(arr))

    return edit


def _neg(a: np.ndarray) -> np.ndarray:
    """Negate an array."""
    return -np.abs(a) - 1


def _nan(a: np.ndarray) -> np.ndarray:
    """Fill a float array with NaN."""
    return np.full_like(a, np.nan)


def _decreasing(a: np.ndarray) -> np.ndarray:
    """Reverse a CSR index pointer (so it decreases and does not start at 0)."""
    return a[::-1].copy()


def _out_of_range(a: np.ndarray) -> np.ndarray:
    """Point synonymy pairs far past the entities."""
    return a + 10**6 if a.size else np.array([[0, 10**6]], dtype=np.int64)


def _sqlite_pages(idx: Path) -> None:
    """Overwrite the passage store's second page with garbage."""
    path = idx / "passages.sqlite"
    data = bytearray(path.read_bytes())
    data[4096:8192] = b"\xa5" * 4096
    path.write_bytes(bytes(data))


def _bm25_lengths(idx: Path) -> None:
    """Make BM25's token counts disagree with its passages."""
    _np_edit("bm25/token_lengths.npy", lambda a: np.concatenate([a, a]))(idx)


for _name, _damage, _cmd in [
    ("csr_indptr:decreasing", _np_edit("graph/csr_indptr.npy", _decreasing),
     ["query", "IDX", Q, "--json", "--no-answer", "-p", "hipporag2"]),
    ("synonymy_pairs:out of range", _np_edit("graph/synonymy_pairs.npy", _out_of_range),
     ["inspect", "IDX", "--graph"]),
    ("csr_weights:negative", _np_edit("graph/csr_weights.npy", _neg),
     ["query", "IDX", Q, "--json", "--no-answer", "-p", "hipporag2"]),
    ("csr_weights:NaN", _np_edit("graph/csr_weights.npy", _nan),
     ["query", "IDX", Q, "--json", "--no-answer", "-p", "hipporag2"]),
    ("token_lengths:count mismatch", _bm25_lengths,
     ["query", "IDX", Q, "--json", "--no-answer", "-p", "bm25"]),
    ("passages.sqlite:page damage (query)", _sqlite_pages,
     ["query", "IDX", Q, "--json", "--no-answer", "-p", "dense"]),
    ("passages.sqlite:page damage (inspect)", _sqlite_pages, ["inspect", "IDX"]),
]:  # fmt: skip
    add("15", f"pre-checksum index, {_name}", pre_checksum_case(_name, _damage, _cmd))


# ---- item 9: legacy code pages ----------------------------------------------------------------

ENCODED = [
    ("pl-cp1250", "cp1250", "Maria Skłodowska urodziła się w Warszawie. Zażółć gęślą jaźń.",
     ["Skłodowska", "gęślą"]),
    ("cs-iso8859-2", "iso-8859-2",
     "Příliš žluťoučký kůň úpěl ďábelské ódy. Řeka Vltava protéká Prahou.",
     ["žluťoučký", "Řeka"]),
    ("cs-cp1250", "cp1250", "Příliš žluťoučký kůň úpěl ďábelské ódy. Šťastný Řehoř.",
     ["žluťoučký", "Šťastný"]),
    ("hu-iso8859-2", "iso-8859-2",
     "Árvíztűrő tükörfúrógép. A magyar nyelv ősi szavai őrzik a múltat.",
     ["Árvíztűrő", "őrzik"]),
    ("tr-cp1254", "cp1254",
     "İstanbul Türkiye'nin en kalabalık şehridir. Boğaziçi köprüsü iki kıtayı bağlar.",
     ["İstanbul", "şehridir", "kıtayı"]),
    ("fr-latin1-short", "latin-1", "Crème brûlée à la française, naïve façade.",
     ["brûlée", "façade"]),
    ("de-latin1-short", "latin-1", "Größere Übergänge für schöne Äpfel.", ["Größere", "Äpfel"]),
    ("ru-koi8-r", "koi8-r", "Москва - столица России. Лев Толстой написал роман \"Война и мир\".",
     ["Москва", "Толстой"]),
    ("ru-cp1251", "cp1251", "Москва - столица России. Лев Толстой написал роман \"Война и мир\".",
     ["Москва", "Толстой"]),
    ("el-iso8859-7", "iso-8859-7", "Η Αθήνα είναι η πρωτεύουσα και η μεγαλύτερη πόλη της Ελλάδας.",
     ["Αθήνα", "Ελλάδας"]),
    ("lt-cp1257", "cp1257", "Lietuvos sostinė yra Vilnius. Ąžuolas žaliuoja šiaurėje.",
     ["sostinė", "Ąžuolas"]),
    ("utf-16-bom", "utf-16", "Žluťoučký kůň and the Eiffel Tower, 日本語 text.",
     ["Žluťoučký", "日本語"]),
    ("utf-16le-no-bom", "utf-16-le", "The lighthouse of Alexandria was one of the Seven Wonders.",
     ["lighthouse of Alexandria"]),
]  # fmt: skip


def encodings_build(ctx: Ctx) -> tuple[Path, Run]:
    """One build of a folder holding every encoded file (memoized)."""
    if "enc" not in ctx.memo:
        d = ctx.case_dir("encodings")
        corpus = d / "corpus"
        corpus.mkdir()
        for name, enc, text, _ in ENCODED:
            (corpus / f"{name}.txt").write_bytes(text.encode(enc))
        stray = "Un café naïve près de la gare. ".encode() + b"\x93quoted\x94 text.\n"
        (corpus / "utf8-stray-bytes.txt").write_bytes(stray)
        idx = d / "idx"
        ctx.memo["enc"] = (idx, ctx.rag("index", corpus, "--out", idx, "--json", timeout=300))
    return ctx.memo["enc"]


def encoding_case(name: str, words: list[str]) -> CaseFn:
    """The file's passages hold its words as written."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Check the shared build and this file's text."""
        idx, r = encodings_build(ctx)
        if not v.fine(r):
            return
        text = texts_of(idx, f"/{name}.txt")
        if not text:  # skipped as undecodable: fine when said, never silently
            v.check(f"{name}.txt" in r.stdout + r.stderr, "file neither indexed nor reported")
            v.note = "skipped with a warning"
            return
        missing = [w for w in words if w not in text]
        v.check(not missing, f"garbled: {missing} not in {text[:90]!r}")

    return run


for _name, _enc, _text, _words in ENCODED:
    add("9", f"{_name} text file", encoding_case(_name, _words))
add("9", "UTF-8 with stray cp1252 bytes", encoding_case("utf8-stray-bytes", ["café", "naïve"]))


# ---- item 10: non-regular files -----------------------------------------------------------------


def special_case(how: str) -> CaseFn:
    """A FIFO, /dev/zero or a socket as input, named or in a folder, beside a good file."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Build; no hang; the special file listed as skipped; the good file indexed."""
        d = ctx.case_dir(f"special-{how}")
        folder = d / "docs"
        folder.mkdir()
        good = folder / "good.txt"
        good.write_text("The Eiffel Tower was designed by Gustave Eiffel's company.\n")
        sock = None
        if how in ("fifo-named", "fifo-in-folder", "fifo-alone"):
            os.mkfifo(folder / "pipe.txt")
            special = folder / "pipe.txt"
        elif how == "socket-in-folder":
            special = folder / "sock.txt"
            sock = socket.socket(socket.AF_UNIX)
            sock.bind(str(special))
        elif how == "devzero-link-in-folder":
            special = folder / "zero.txt"
            special.symlink_to("/dev/zero")
        else:
            special = Path("/dev/zero")
        paths = {
            "fifo-named": [special, good],
            "devzero-named": [special, good],
            "fifo-alone": [special],
        }.get(how, [folder])
        try:
            r = ctx.rag("index", *paths, "--out", d / "idx", "--json", timeout=120)
        finally:
            if sock is not None:
                sock.close()
        if how == "fifo-alone":
            if v.clean(r) and r.rc != 0:
                v.error(r, "pipe.txt")
            return
        if v.fine(r):
            skipped = json.dumps(json.loads(r.stdout).get("skipped", {}))
            v.check(special.name in skipped, f"{special.name} not listed as skipped: {skipped}")
            v.check("Gustave" in texts_of(d / "idx", "good.txt"), "good file not indexed")

    return run


for _how in ("fifo-named", "fifo-in-folder", "fifo-alone", "devzero-named",
             "devzero-link-in-folder", "socket-in-folder"):  # fmt: skip
    add("10", f"non-regular input: {_how}", special_case(_how))


# ---- items 11, 12 and R: LLM servers that misbehave --------------------------------------------


def llm_error_case(mode: str, names: tuple[str, ...], limit: float = 90) -> CaseFn:
    """A query against a misbehaving server ends in a one-line error, quickly."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Ask once; expect an error within `limit` seconds and a short stdout."""
        d = ctx.case_dir(f"llm-{mode}")
        env = {"RAG_CACHE_DIR": str(d / "cache"), "RAG_LLM__TIMEOUT_S": "3"}
        shutil.copytree(ctx.cache / "openvino", d / "cache" / "openvino", dirs_exist_ok=True)
        if mode == "refused":
            r = ctx.rag("query", ctx.full, Q,
                        env={**ctx.llm_env(f"http://127.0.0.1:{free_port()}/v1"), **env},
                        timeout=limit)  # fmt: skip
            v.error(r, *names)
            return
        with LLMServer(mode) as server:
            r = ctx.rag("query", ctx.full, Q, env={**ctx.llm_env(server), **env}, timeout=limit)
            v.error(r, *names)
            v.check(len(r.stdout) < 100_000, f"printed {len(r.stdout)} bytes")
            if mode.startswith("huge"):
                server.mode = "ok"
                asked = server.requests
                r2 = ctx.rag("query", ctx.full, Q, env={**ctx.llm_env(server), **env})
                if v.fine(r2):
                    v.check(server.requests > asked, "the huge reply was cached")
        v.note = f"{r.seconds:.1f}s"

    return run


add("11", "LLM trickles its body 1 byte/s (timeout_s=3)",
    llm_error_case("trickle", ("timeout", "within", "seconds", "deadline", "3")))  # fmt: skip
add("11", "LLM accepts and never answers (timeout_s=3)",
    llm_error_case("silent", ("timeout", "within", "timed out", "3")))  # fmt: skip
add("12", "50 MB reply with Content-Length", llm_error_case("huge", ("reply", "MiB", "bytes")))
add("12", "50 MB reply without Content-Length",
    llm_error_case("huge_nolen", ("reply", "MiB", "bytes")))  # fmt: skip
for _mode, _names in [
    ("refused", ("connect", "refused", "127.0.0.1")),
    ("status:500", ("500",)),
    ("status:429", ("429", "rate")),
    ("status:404", ("404", "not found")),
    ("status:401", ("401", "auth", "key")),
    ("not_json", ("json", "reply", "invalid")),
]:
    add("R", f"LLM {_mode}: one-line error", llm_error_case(_mode, _names))


@case("11", "trickling LLM during an OpenIE rebuild: previous index intact")
def _trickle_build(ctx: Ctx, v: Verdict) -> None:
    """The build errs within its deadline and the old index is untouched."""
    d = ctx.case_dir("trickle-build")
    idx = ctx.copy_full(d / "idx")
    before = sha_tree(idx)
    env = {"RAG_CACHE_DIR": str(d / "cache"), "RAG_LLM__TIMEOUT_S": "3"}
    shutil.copytree(ctx.cache / "openvino", d / "cache" / "openvino", dirs_exist_ok=True)
    with LLMServer("trickle") as server:
        r = ctx.rag("index", ctx.corpus, "--out", idx, "--rebuild", "--extractor", "llm",
                    env={**ctx.llm_env(server), **env}, timeout=240)  # fmt: skip
    v.clean(r)
    if r.rc != 0:
        v.error(r)
        intact(ctx, v, idx, before, "hipporag2")


@case("12", "a 20,000-character answer is cut when printed, whole in --json")
def _long_answer(ctx: Ctx, v: Verdict) -> None:
    """Printed lines stay under ~4,000 characters."""
    d = ctx.case_dir("long-answer")
    env = {"RAG_CACHE_DIR": str(d / "cache")}
    shutil.copytree(ctx.cache / "openvino", d / "cache" / "openvino", dirs_exist_ok=True)
    with LLMServer("long_answer") as server:
        r = ctx.rag("query", ctx.full, Q, env={**ctx.llm_env(server), **env})
        rj = ctx.rag("query", ctx.full, Q, "--json", env={**ctx.llm_env(server), **env})
    if v.fine(r) and v.fine(rj):
        printed = r.stdout.count("Eiffel") * len("Eiffel ")  # rich wraps lines: count words
        v.check(printed <= 4200, f"printed about {printed} characters of the answer")
        whole = len(strict_json(rj.stdout).get("text", ""))
        v.check(whole >= 20_000, f"--json answer cut to {whole} characters")
        v.note = f"printed about {printed} characters of it; --json answer {whole} chars"


# ---- item 13: malformed JSON and file names ---------------------------------------------------

GOOD = '{"title": "Good record", "text": "The Amazon river basin holds the largest rainforest."}'
BAD_JSON: list[tuple[str, str, bytes]] = [
    ("bigint.json", "json", f'{{"title": "Big", "text": "x", "n": {"9" * 5000}}}'.encode()),
    ("bigint.jsonl", "jsonl",
     f'{GOOD}\n{{"title": "Big", "text": "y", "n": {"9" * 5000}}}\n'.encode()),
    ("deep.json", "json", b"[" * 100_000),
    ("deep.jsonl", "jsonl", (GOOD + "\n").encode() + b"[" * 100_000 + b"\n"),
    ("surrogate.json", "json",
     f'[{GOOD}, {{"title": "Lone", "text": "bad \\ud800 here"}}]'.encode()),
    ("surrogate.jsonl", "jsonl",
     f'{GOOD}\n{{"title": "Lone \\udfff", "text": "bad title"}}\n'.encode()),
    ("nan.json", "json", f'[{GOOD}, {{"title": "NaN", "text": NaN}}]'.encode()),
    ("number-text.json", "json", f'[{GOOD}, {{"title": "Num", "text": 42}}]'.encode()),
    ("top-string.json", "json", b'"just a string"'),
    ("bad-utf8.json", "json", b'[{"title": "Caf\xe9", "text": "caf\xe9 au lait \xff"}]'),
    ("empty.json", "json", b""),
    ("half.jsonl", "jsonl", f'{GOOD}\n{{"title": "cut", "te'.encode()),
]  # fmt: skip


def bad_json_case(name: str, data: bytes) -> CaseFn:
    """A malformed JSON input beside a good file: skipped (file or line), build succeeds."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Build the folder; the good file (and good lines) are indexed."""
        d = ctx.case_dir(f"json-{name}")
        folder = d / "docs"
        folder.mkdir()
        (folder / "good.txt").write_text("The Eiffel Tower was designed by Gustave Eiffel.\n")
        (folder / name).write_bytes(data)
        r = ctx.rag("index", folder, "--out", d / "idx", "--json", timeout=180)
        if v.fine(r):
            v.check("Gustave" in texts_of(d / "idx", "good.txt"), "good file lost")
            if GOOD.encode() in data:
                v.check("Amazon" in texts_of(d / "idx", name), "good record of the file lost")
            if name not in ("number-text.json", "bad-utf8.json"):
                v.check(name in r.stderr + r.stdout, "no warning naming the file")

    return run


for _name, _kind, _data in BAD_JSON:
    add("13", f"malformed input {_name}", bad_json_case(_name, _data))


def bad_name_case(how: str) -> CaseFn:
    """A file or folder whose name is not valid UTF-8: skipped with 'rename it'."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Create the name with bytes and build."""
        d = ctx.case_dir(f"name-{how}")
        folder = d / "docs"
        folder.mkdir()
        (folder / "good.txt").write_text("The Eiffel Tower was designed by Gustave Eiffel.\n")
        base = os.fsencode(folder)
        if how == "file":
            with open(base + b"/caf\xe9.txt", "wb") as fh:
                fh.write(b"A cafe by the river serves strong coffee.\n")
        else:
            os.mkdir(base + b"/d\xe9j\xe0")
            with open(base + b"/d\xe9j\xe0/inner.txt", "wb") as fh:
                fh.write(b"A cafe by the river serves strong coffee.\n")
        r = ctx.rag("index", folder, "--out", d / "idx", "--json")
        if v.fine(r):
            v.check("Gustave" in texts_of(d / "idx", "good.txt"), "good file lost")
            v.check("rename" in r.stderr.lower() + r.stdout.lower(), "no 'rename it' warning")

    return run


add("13", "file name not valid UTF-8", bad_name_case("file"))
add("13", "folder name not valid UTF-8", bad_name_case("folder"))


# ---- item 14: disk full -------------------------------------------------------------------------


def tmpfs(ctx: Ctx, path: Path, size: str) -> bool:
    """Mount a tmpfs at `path` (False where mounting is not allowed)."""
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       capture_output=True, check=False)  # fmt: skip
    if r.returncode == 0:
        ctx.mounts.append(path)
    return r.returncode == 0


def fill(path: Path, leave: int) -> None:
    """Fill the file system at `path` until about `leave` bytes are free."""
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    with open(path / "filler.bin", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


def disk_full_case(leave: int) -> CaseFn:
    """Rebuild a bigger index on a nearly full tmpfs: a one-line 'disk full', old index intact."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Mount, copy, fill, rebuild with more text, check; then free space and rerun."""
        d = ctx.case_dir(f"diskfull-{leave}")
        mnt = d / "mnt"
        if not tmpfs(ctx, mnt, "16m"):
            v.check(False, "could not mount a tmpfs (not tried)")
            return
        corpus = ctx.copy_corpus(d / "corpus")
        (corpus / "long.txt").write_text(
            "\n\n".join(f"Paragraph {i}: the tower keeper counted {i * 7} storms and "
                        f"wrote about harbour {i} in detail." for i in range(400)))  # fmt: skip
        idx = ctx.copy_full(mnt / "idx")
        fill(mnt, leave)
        before = sha_tree(idx)
        r = ctx.rag("index", corpus, "--out", idx, "--rebuild", timeout=300)
        v.clean(r)
        if r.rc == 0:
            v.note = "the build fit"
            v.check(ctx.hits(idx) is not None, "new index does not answer")
        else:
            v.error(r, "disk full")
            v.check("untouched" in r.stderr, "no 'previous index is untouched'")
            intact(ctx, v, idx, before, "dense")
            (mnt / "filler.bin").unlink()
            v.fine(ctx.rag("index", corpus, "--out", idx, "--rebuild", timeout=300))

    return run


for _leave in (16_000, 300_000, 1_000_000, 2_500_000):
    add("14", f"disk full, {_leave // 1000} kB free", disk_full_case(_leave))


# ---- item 16: opens during swaps ---------------------------------------------------------------

READER = r"""
import json, sys, time, collections
import rag
path, pipe, stop, deadline = sys.argv[1], sys.argv[2], sys.argv[3], time.time() + float(sys.argv[4])
errors, opens = collections.Counter(), 0
from pathlib import Path
while time.time() < deadline and not Path(stop).exists():
    try:
        with rag.load(path) as idx:
            hits = idx.search("Who designed the Eiffel Tower?", 5, pipe)
            for h in hits:
                if idx.passage(h.passage_id) is None:
                    raise LookupError("hit id not in the store")
        opens += 1
    except Exception as exc:
        text = str(exc)
        short = text if len(text) < 160 else text[:80] + " ... " + text[-60:]
        key = type(exc).__name__ + ": " + short
        errors[key] += 1
print(json.dumps({"opens": opens, "errors": errors}))
"""


def swap_case(pipe: str) -> CaseFn:
    """Fresh opens and searches while rebuilds swap versions in."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Four rebuilds alternating two corpora while a reader loops."""
        d = ctx.case_dir(f"swaps-{pipe}")
        idx = d / "idx"
        a = ctx.copy_corpus(d / "a")
        b = ctx.copy_corpus(d / "b")
        for i in range(30):
            (b / f"extra{i}.txt").write_text(f"Extra note {i}: harbour {i} has {i * 3} cranes.\n")
        if not v.fine(ctx.rag("index", a, "--out", idx)):
            return
        stop = d / "stop"
        proc = subprocess.Popen(
            [sys.executable, "-c", READER, str(idx), pipe, str(stop), "200"],
            env=ctx.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        time.sleep(8)
        for i in range(4):
            v.fine(ctx.rag("index", b if i % 2 == 0 else a, "--out", idx, "--rebuild"))
        stop.touch()
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        v.check(TRACEBACK not in err.decode(errors="replace"), "reader traceback")
        try:
            report = json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            v.check(False, f"reader gave no report: {err.decode(errors='replace')[-300:]}")
            return
        bad = {k: n for k, n in report["errors"].items() if "again" not in k.lower()}
        v.check(not bad, f"errors during swaps: {bad}")
        v.check(report["opens"] > 0, "reader never opened the index")
        v.note = f"{report['opens']} opens during 4 swaps; errors {report['errors']}"

    return run


add("16", "fresh bm25 opens during 4 swaps", swap_case("bm25"))
add("16", "fresh hybrid opens during 4 swaps", swap_case("hybrid"))


@case("16", "interrupted swap: only .NAME.old exists; inspect and query agree")
def _interrupted(ctx: Ctx, v: Verdict) -> None:
    """Both read the retired copy."""
    d = ctx.case_dir("interrupted")
    ctx.copy_full(d / ".idx.old")
    idx = d / "idx"
    v.fine(ctx.rag("inspect", idx))
    v.check(ctx.hits(idx) == ctx.baseline(), "query did not answer from the retired copy")


@case("16", "interrupted swap: NAME and a stale .NAME.old both exist")
def _both(ctx: Ctx, v: Verdict) -> None:
    """The current copy is read."""
    d = ctx.case_dir("both")
    idx = ctx.copy_full(d / "idx")
    stale = ctx.copy_full(d / ".idx.old")
    shutil.rmtree(stale / "graph")
    v.fine(ctx.rag("inspect", idx))
    v.check(ctx.hits(idx, "hipporag2") == ctx.baseline("hipporag2"), "answers changed")


# ---- item 17: pipelines and settings ----------------------------------------------------------


def pipeline_case(name: str, data: bytes, names: tuple[str, ...] = ()) -> CaseFn:
    """A bad pipeline file: a one-line error naming it."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Write the file and query with it."""
        d = ctx.case_dir(f"pipe-{name}")
        path = d / f"{name}.yaml"
        marker = d / "PWNED"
        path.write_bytes(data.replace(b"MARKER", str(marker).encode()))
        r = ctx.rag("query", ctx.full, Q, "-p", path, "--no-answer", timeout=120)
        v.error(r, *(names or (path.name,)))
        v.check(not marker.exists(), "a YAML tag was executed")

    return run


NEST = b"name: deep\nsteps:\n  - " + b"{type: group, steps: [" * 400 + b"]}" * 400 + b"\n"
BOMB = (
    b"a: &a [x,x,x,x,x,x,x,x,x]\n"
    + b"".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n".encode()
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + b"name: bomb\nsteps: *i\n"
)
PIPES: list[tuple[str, bytes, tuple[str, ...]]] = [
    ("latin1", "name: caf\xe9\nsteps:\n  - {type: retrieve, index: dense}\n".encode("latin-1"), ()),
    ("alias-loop", b"steps: &s\n  - *s\nname: loop\n", ()),
    ("nested-400", NEST, ()),
    ("billion-laughs", BOMB, ()),
    ("python-tag", b"name: !!python/object/apply:os.system ['touch MARKER']\nsteps: []\n", ()),
    ("fuse-bad-weights",
     b"name: f\nsteps:\n  - {type: retrieve, index: dense, out: dense}\n"
     b"  - {type: retrieve, index: bm25, out: bm25}\n"
     b"  - {type: fuse, inputs: [dense, bm25], weights: {dense: -1, nope: 2}}\n",
     ("weight", "nope", "-1")),
    ("fuse-nan-weight",
     b"name: f\nsteps:\n  - {type: retrieve, index: dense, out: dense}\n"
     b"  - {type: retrieve, index: bm25, out: bm25}\n"
     b"  - {type: fuse, inputs: [dense, bm25], weights: {dense: .nan, bm25: 1}}\n",
     ("weight", "nan", "finite")),
    ("fuse-inf-weight",
     b"name: f\nsteps:\n  - {type: retrieve, index: dense, out: dense}\n"
     b"  - {type: retrieve, index: bm25, out: bm25}\n"
     b"  - {type: fuse, inputs: [dense, bm25], weights: {dense: .inf, bm25: 1}}\n",
     ("weight", "inf", "finite")),
    ("unknown-step", b"name: u\nsteps:\n  - {type: teleport}\n", ("teleport",)),
    ("empty", b"", ()),
    ("not-a-mapping", b"- just\n- a list\n", ()),
]  # fmt: skip
for _name, _data, _names in PIPES:
    add("17", f"pipeline YAML: {_name}", pipeline_case(_name, _data, _names))


@case("17", "pipeline file unreadable (caps dropped)")
def _pipe_unreadable(ctx: Ctx, v: Verdict) -> None:
    """chmod 000: an error naming the file."""
    d = ctx.case_dir("pipe-unreadable")
    path = d / "p.yaml"
    path.write_text("name: p\nsteps:\n  - {type: retrieve, index: dense}\n")
    path.chmod(0)
    v.error(ctx.rag("query", ctx.full, Q, "-p", path, "--no-answer", caps=True), "p.yaml")


@case("17", "pipeline path is a folder")
def _pipe_folder(ctx: Ctx, v: Verdict) -> None:
    """A folder named as the pipeline."""
    d = ctx.case_dir("pipe-folder")
    (d / "p.yaml").mkdir()
    v.error(ctx.rag("query", ctx.full, Q, "-p", d / "p.yaml", "--no-answer"), "p.yaml")


def setting_case(name: str, env: dict[str, str], names: tuple[str, ...]) -> CaseFn:
    """A bad setting from the environment: a one-line error naming it."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Query (and, for cache_dir, index) with the setting."""
        d = ctx.case_dir(f"set-{name}")
        (d / "afile").write_text("x")
        real = {k: x.replace("CASEDIR", str(d)) for k, x in env.items()}
        v.error(ctx.rag("query", ctx.full, Q, "--no-answer", env=real), *names)

    return run


SETTINGS: list[tuple[str, dict[str, str], tuple[str, ...]]] = [
    ("max_concurrency=0", {"RAG_LLM__MAX_CONCURRENCY": "0"}, ("max_concurrency",)),
    ("timeout_s=-1", {"RAG_LLM__TIMEOUT_S": "-1"}, ("timeout_s",)),
    ("timeout_s=nan", {"RAG_LLM__TIMEOUT_S": "nan"}, ("timeout_s",)),
    ("RAG_LLM={bad", {"RAG_LLM": "{bad"}, ("RAG_LLM", "llm")),
    ("cache_dir=a file", {"RAG_CACHE_DIR": "CASEDIR/afile"}, ("cache_dir", "afile")),
    ("cache_dir under /dev/null", {"RAG_CACHE_DIR": "/dev/null/sub"}, ("cache_dir", "/dev/null")),
    ("top_k=0", {"RAG_RETRIEVAL__TOP_K": "0"}, ("top_k",)),
    ("unknown provider", {"RAG_LLM__PROVIDER": "telepathy"}, ("provider",)),
]
for _name, _env, _names in SETTINGS:
    add("17", f"setting {_name}", setting_case(_name, _env, _names))


def config_case(name: str, suffix: str, data: str, names: tuple[str, ...]) -> CaseFn:
    """A bad --config file: an error naming the file or setting, nothing executed."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Write it and query with RAG_CONFIG."""
        d = ctx.case_dir(f"config-{name}")
        path = d / f"memrag{suffix}"
        marker = d / "PWNED"
        path.write_text(data.replace("MARKER", str(marker)))
        r = ctx.rag("query", ctx.full, Q, "--no-answer", env={"RAG_CONFIG": str(path)})
        v.error(r, *(names or (path.name,)))
        v.check(not marker.exists(), "a YAML tag was executed")

    return run


for _name, _suffix, _data, _names in [
    ("toml-syntax", ".toml", "[llm\nmodel = 1\n", ()),
    ("unknown-section", ".toml", "[grpah]\nextractor = 'offline'\n", ("grpah",)),
    ("yaml-python-tag", ".yaml",
     "cache_dir: !!python/object/apply:os.system ['touch MARKER']\n", ()),
    ("bad-value", ".toml", "[retrieval]\ntop_k = 'many'\n", ("top_k",)),
]:  # fmt: skip
    add("17" if _name != "yaml-python-tag" else "R", f"config file: {_name}",
        config_case(_name, _suffix, _data, _names))  # fmt: skip


def output_case(name: str) -> CaseFn:
    """An output option naming a folder (or a path under a file): an error naming it."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Run the command with the bad output path."""
        d = ctx.case_dir(f"out-{name}")
        (d / "afolder").mkdir()
        (d / "afile").write_text("x")
        cmds = {
            "--graphml folder": ["inspect", ctx.full, "--graph", "--graphml", d / "afolder"],
            "--trace-out folder": ["query", ctx.full, Q, "--no-answer", "--trace-out",
                                   d / "afolder"],
            "--tree-json folder": ["inspect", ctx.full, "--tree", "--tree-json", d / "afolder"],
            "--out afile/sub": ["index", ctx.corpus, "--out", d / "afile" / "sub"],
            "--trace-out afile/sub": ["query", ctx.full, Q, "--no-answer", "--trace-out",
                                      d / "afile" / "t.jsonl"],
        }  # fmt: skip
        v.error(ctx.rag(*cmds[name]), "afolder", "afile")

    return run


for _name in ("--graphml folder", "--trace-out folder", "--tree-json folder", "--out afile/sub",
              "--trace-out afile/sub"):  # fmt: skip
    add("17", f"output {_name}", output_case(_name))


@case("17", "--trace-out with missing parent folders: created and said")
def _trace_parents(ctx: Ctx, v: Verdict) -> None:
    """Exit 0, the file written, stderr says the folder was created."""
    d = ctx.case_dir("trace-parents")
    target = d / "x" / "y" / "t.jsonl"
    r = ctx.rag("query", ctx.full, Q, "--no-answer", "--trace-out", target)
    if v.fine(r):
        v.check(target.is_file(), "trace not written")
        v.check("x/y" in r.stderr or "creat" in r.stderr.lower(), "creation not said on stderr")


# ---- item 18: printing ------------------------------------------------------------------------

EVIL_TEXT = {
    "escapes.txt": "The harbour crane \x1b[31mRED ALERT\x1b[0m lifts ships. \x1b]0;pwned\x07 "
    "The crane keeper \x1b[2J cleared the screen. C1 \x9b31m control.",
    "markup.txt": "The crane manual says [bold red]DANGER[/] and [/] and "
    "[link=http://evil.example]click[/link] and [click](http://evil.example) for crane details.",
    "nan.jsonl": '{"title": "Crane statistics", "text": "The crane record weight statistics '
    'table lists the crane load.", "score": NaN, "max": Infinity}\n',
}


def evil_index(ctx: Ctx) -> tuple[Path, Run]:
    """One build over the corpus of escape sequences, markup and NaN (memoized)."""
    if "evil" not in ctx.memo:
        d = ctx.case_dir("evil-text")
        folder = d / "docs"
        folder.mkdir()
        for name, text in EVIL_TEXT.items():
            (folder / name).write_text(text, encoding="utf-8")
        (folder / "title \x1b[31mred\x1b[0m crane.txt").write_text(
            "The crane operator's guide covers crane safety.\n"
        )
        idx = d / "idx"
        ctx.memo["evil"] = (idx, ctx.rag("index", folder, "--out", idx, timeout=300))
    return ctx.memo["evil"]


def _raw_controls(text: str) -> list[str]:
    """Terminal control characters present in `text` (newline and tab allowed)."""
    return sorted({repr(c) for c in text if (ord(c) < 32 and c not in "\n\t") or c in "\x7f\x9b"})


def _pid_of(idx: Path, part: str) -> str:
    """The id of the first passage whose source contains `part`."""
    for pid, (_, source) in passages(idx).items():
        if part in source:
            return pid
    return ""


def print_case(name: str) -> CaseFn:
    """What `rag query` / `rag inspect` print for hostile text."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Run and check the printed text."""
        idx, build = evil_index(ctx)
        if not v.fine(build):
            return
        crane = "What does the crane keeper do?"
        if name == "query escapes":
            r = ctx.rag("query", idx, crane, "-p", "bm25", "-k", "4")
            if v.fine(r):
                v.check(not _raw_controls(r.stdout), f"raw controls {_raw_controls(r.stdout)}")
                v.check("␛" in r.stdout, "ESC not shown as ␛")
        elif name == "question with escapes, --trace":
            r = ctx.rag("query", idx, "\x1b[31mcrane\x1b[0m keeper?", "-p", "bm25", "--trace")
            if v.fine(r):
                v.check(not _raw_controls(r.stdout), f"raw controls {_raw_controls(r.stdout)}")
        elif name == "inspect --passage escapes":
            r = ctx.rag("inspect", idx, "--passage", _pid_of(idx, "escapes.txt"))
            if v.fine(r):
                v.check(not _raw_controls(r.stdout), f"raw controls {_raw_controls(r.stdout)}")
        elif name == "markup printed literally":
            r = ctx.rag("query", idx, "crane manual details", "-p", "bm25", "-k", "4")
            if v.fine(r):
                for token in ("[bold red]", "[/]", "[click]"):
                    v.check(token in r.stdout, f"{token} not printed as written")
        elif name == "inspect --passage --json NaN":
            r = ctx.rag("inspect", idx, "--passage", _pid_of(idx, "nan.jsonl"), "--json")
            if v.fine(r):
                try:
                    strict_json(r.stdout)
                except ValueError as exc:
                    v.check(False, f"not strict JSON: {exc}")
        elif name == "query --json strict with NaN passage":
            r = ctx.rag("query", idx, "crane record statistics", "-p", "bm25", "--json")
            if v.fine(r):
                try:
                    strict_json(r.stdout)
                except ValueError as exc:
                    v.check(False, f"not strict JSON: {exc}")
        elif name == "file name with escapes in titles":
            r = ctx.rag("query", idx, "crane operator guide safety", "-p", "bm25", "-k", "5")
            if v.fine(r):
                v.check(not _raw_controls(r.stdout), f"raw controls {_raw_controls(r.stdout)}")
        elif name == "inspect (manifest) with escape file names":
            r = ctx.rag("inspect", idx)
            if v.fine(r):
                v.check(not _raw_controls(r.stdout), f"raw controls {_raw_controls(r.stdout)}")

    return run


for _name in ("query escapes", "question with escapes, --trace", "inspect --passage escapes",
              "markup printed literally", "inspect --passage --json NaN",
              "query --json strict with NaN passage", "file name with escapes in titles",
              "inspect (manifest) with escape file names"):  # fmt: skip
    add("18", _name, print_case(_name))


# ---- R: kill -9, locks, CLI inputs, the app's address ------------------------------------------


def clean_build_of_b(ctx: Ctx) -> set[str]:
    """Passage ids of a clean four-kind build of the bigger corpus (memoized)."""
    if "cleanB" not in ctx.memo:
        d = ctx.case_dir("clean-b")
        r = ctx.rag("index", kill_corpus(ctx), "--out", d / "idx", "--kinds",
                    "dense,bm25,graph,tree", "--extractor", "offline", timeout=600)  # fmt: skip
        ctx.memo["cleanB"] = set(passages(d / "idx")) if r.rc == 0 else set()
    return ctx.memo["cleanB"]


def kill_corpus(ctx: Ctx) -> Path:
    """The corpus plus 150 new paragraphs: a build long enough to kill at several moments."""
    if "killcorpus" not in ctx.memo:
        c = ctx.copy_corpus(ctx.work / "corpus_b")
        for j in range(6):
            (c / f"harbour{j}.txt").write_text(
                "\n\n".join(
                    f"Harbour {j}-{i}: crane {i} of dock {j} lifted {i * 13 + j} containers "
                    f"in the storm of year {1900 + i}, said keeper number {j * 100 + i}."
                    for i in range(25)
                )
            )
        ctx.memo["killcorpus"] = c
    return ctx.memo["killcorpus"]


def kill_case(at_s: float) -> CaseFn:
    """kill -9 a rebuild after `at_s` seconds: the old index intact, the rerun complete."""

    def run(ctx: Ctx, v: Verdict) -> None:
        """Start, kill the process group, compare, rerun."""
        clean = clean_build_of_b(ctx)
        d = ctx.case_dir(f"kill-{at_s}")
        idx = ctx.copy_full(d / "idx")
        before = sha_tree(idx)
        env = {**ctx.env, "RAG_CACHE_DIR": str(d / "cache")}
        shutil.copytree(ctx.cache / "openvino", d / "cache" / "openvino")
        proc = subprocess.Popen(
            ["rag", "index", str(kill_corpus(ctx)), "--out", str(idx), "--extractor", "offline"],
            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        time.sleep(at_s)
        finished = proc.poll() is not None
        if not finished:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        after = sha_tree(idx)
        if finished or after != before:
            v.note = "the build had finished or swapped before the kill"
            v.check(set(passages(idx)) in (clean, set(passages(ctx.full))), "a mixed index")
        else:
            v.check(ctx.hits(idx) == ctx.baseline(), "previous index answers differently")
        r = ctx.rag("index", kill_corpus(ctx), "--out", idx, "--extractor", "offline",
                    env={"RAG_CACHE_DIR": str(d / "cache")}, timeout=400)  # fmt: skip
        if v.fine(r):
            v.check(set(passages(idx)) == clean, "rerun differs from a clean build")
            m = json.loads((idx / "manifest.json").read_text())
            v.check(set(m["indexes"]) >= {"graph", "tree"}, f"kinds {m['indexes']}")
        v.note += f" killed at {at_s}s"

    return run


for _t in (2.0, 6.0, 11.0):
    add("R", f"kill -9 of a rebuild at {_t:.0f}s", kill_case(_t))


@case("R", "a second writer fails at once with a lock message")
def _second_writer(ctx: Ctx, v: Verdict) -> None:
    """Start a build, then another on the same dir."""
    d = ctx.case_dir("lock")
    idx = ctx.copy_full(d / "idx")
    first = subprocess.Popen(
        ["rag", "index", str(kill_corpus(ctx)), "--out", str(idx), "--rebuild"],
        env=ctx.env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(40):
            if (d / ".idx.lock").exists():
                break
            time.sleep(0.25)
        r = ctx.rag("index", ctx.corpus, "--out", idx, timeout=60)
        v.error(r, "lock", "another", "build")
        v.check(r.seconds < 20, f"took {r.seconds:.0f}s")
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            first.wait(timeout=300)
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)


for _name, _args, _names in [
    ("query a missing dir", ["query", "/nonexistent/idx", Q], ("nonexistent",)),
    ("query a folder that is not an index", ["query", "SAMPLE", Q], ("sample", "manifest")),
    ("index a missing path", ["index", "/nonexistent/docs", "--out", "OUT"], ("nonexistent",)),
    ("index an empty folder", ["index", "EMPTY", "--out", "OUT"], ("empty", "nothing")),
    ("query -k 0", ["query", "FULL", Q, "-k", "0"], ("-k", "k")),
    ("index --chunk-size 0", ["index", "SAMPLE", "--out", "OUT", "--chunk-size", "0"],
     ("chunk",)),
    ("index --chunk-overlap > size",
     ["index", "SAMPLE", "--out", "OUT", "--chunk-size", "32", "--chunk-overlap", "64"],
     ("overlap",)),
    ("unknown preset", ["query", "FULL", Q, "-p", "nosuchpreset"], ("nosuchpreset",)),
    ("raptor on an index without tree", ["query", "PLAIN", Q, "-p", "raptor"], ("tree",)),
]:  # fmt: skip

    def _cli_case(
        ctx: Ctx, v: Verdict, args: list[str] = _args, names: tuple[str, ...] = _names
    ) -> None:
        """A bad command line: a one-line error."""
        d = ctx.case_dir("cli")
        (d / "empty").mkdir()
        plain = d / "plain"
        if "PLAIN" in args:
            ctx.copy_full(plain)
            shutil.rmtree(plain / "tree")
            m = json.loads((plain / "manifest.json").read_text())
            m["indexes"] = [k for k in m["indexes"] if k != "tree"]
            m["files"] = {k: x for k, x in m.get("files", {}).items() if not k.startswith("tree")}
            (plain / "manifest.json").write_text(json.dumps(m))
        subst = {"SAMPLE": str(SAMPLE), "OUT": str(d / "out"), "EMPTY": str(d / "empty"),
                 "FULL": str(ctx.full), "PLAIN": str(plain)}  # fmt: skip
        v.error(ctx.rag(*[subst.get(a, a) for a in args]), *names)

    add("R", f"CLI: {_name}", _cli_case)


@case("R", "a binary file in the corpus is skipped with a warning")
def _binary(ctx: Ctx, v: Verdict) -> None:
    """A .txt of random bytes is skipped and named; the rest is indexed."""
    d = ctx.case_dir("binary")
    folder = d / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("The Eiffel Tower was designed by Gustave Eiffel.\n")
    (folder / "noise.txt").write_bytes(os.urandom(4096) + b"\0" * 64)
    r = ctx.rag("index", folder, "--out", d / "idx", "--json")
    if v.fine(r):
        v.check("noise.txt" in r.stdout + r.stderr, "binary file not named")


@case("R", "rag app listens on loopback only")
def _loopback(ctx: Ctx, v: Verdict) -> None:
    """Start `rag app`, read its listening sockets from /proc/net, stop it."""
    port = free_port()
    proc = subprocess.Popen(
        ["rag", "app", "--root", str(ctx.full.parent), "--port", str(port)],
        env={**ctx.env, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"},
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    hexport = f"{port:04X}"
    seen: list[str] = []
    try:
        for _ in range(120):
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                for line in Path(table).read_text().splitlines()[1:]:
                    local, state = line.split()[1], line.split()[3]
                    if local.endswith(":" + hexport) and state == "0A":
                        seen.append(local)
            if seen:
                break
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    v.check(bool(seen), "the app never listened")
    loop = ("0100007F:" + hexport, "00000000000000000000000001000000:" + hexport)
    v.check(all(s in loop for s in seen), f"listening on {seen}")
    v.note = f"listening sockets {seen}"


# ---- running and reporting ----------------------------------------------------------------------


def run_case(ctx: Ctx, item: str, name: str, fn: CaseFn) -> Result:
    """Run one case; an exception in the audit itself is reported as such."""
    v = Verdict()
    start = time.monotonic()
    try:
        fn(ctx, v)
    except Exception as exc:  # the audit's own failure: report, do not stop
        v.why.append(f"audit error: {type(exc).__name__}: {exc}"[:400])
    bad_run = next((r for r in reversed(v.runs) if r.rc != 0 or TRACEBACK in r.stderr), None)
    last = bad_run or (v.runs[-1] if v.runs else None)
    tail = ""
    if last is not None and v.why:
        tail = "\n".join(last.stderr.strip().splitlines()[-8:])[-1500:]
    return Result(
        item=item,
        name=name,
        ok=not v.why,
        why=v.why,
        seconds=round(time.monotonic() - start, 1),
        rc=last.rc if last else None,
        stderr_tail=tail,
        note=v.note,
        message=" / ".join(error_lines(last.stderr))[:300] if last else "",
    )


def report(results: list[Result], seconds: float) -> str:
    """The Markdown report: a table per item, totals, and every case not handled well."""
    lines = ["# Integrity audit (issue 20)", "", "| item | what | tried | handled well |"]
    lines.append("| --- | --- | --- | --- |")
    for item in ITEMS:
        mine = [r for r in results if r.item == item]
        if mine:
            good = sum(r.ok for r in mine)
            lines.append(f"| {item} | {TITLES[item]} | {len(mine)} | {good} |")
    good = sum(r.ok for r in results)
    spent = sum(r.seconds for r in results) / 60
    lines += [
        "",
        f"**Handled well: {good} / {len(results)} tried** (this run {seconds / 60:.1f} min; "
        f"the cases' own times add up to {spent:.1f} min)",
        "",
    ]
    failed = [r for r in results if not r.ok]
    if failed:
        lines += ["## Not handled well", ""]
        for r in failed:
            lines.append(f"### [{r.item}] {r.name}  (exit {r.rc}, {r.seconds}s)")
            lines += [f"- {w}" for w in r.why]
            if r.note:
                lines.append(f"- note: {r.note}")
            if r.stderr_tail:
                lines += ["", "```", r.stderr_tail, "```"]
            lines.append("")
    lines += [
        "## All cases",
        "",
        "| item | case | ok | s | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        note = r.note.replace("|", "/")[:160]
        lines.append(f"| {r.item} | {r.name} | {'yes' if r.ok else 'NO'} | {r.seconds} | {note} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Parse arguments, run the chosen cases, write and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="Folder for report.md, cases.json")
    parser.add_argument("--only", default="", help="Comma-separated items (1-18, R) to run.")
    parser.add_argument("--match", default="", help="Only cases whose name contains this.")
    parser.add_argument("--timeout", type=float, default=180, help="Seconds per CLI run.")
    parser.add_argument("--keep", action="store_true", help="Keep the temp folder.")
    parser.add_argument("--list", action="store_true", help="List the cases and exit.")
    parser.add_argument(
        "--previous",
        type=Path,
        action="append",
        default=[],
        help="cases.json of earlier runs (repeatable, later ones win): their results are kept "
        "for the cases not rerun.",
    )
    args = parser.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    chosen = [c for c in CASES if (not only or c[0] in only) and args.match.lower() in c[1].lower()]
    if args.list:
        for item, name, _ in chosen:
            print(f"[{item}] {name}")
        print(f"{len(chosen)} cases")
        return
    if os.geteuid() != 0:
        print("warning: not root; permission and tmpfs cases will not be real", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="memrag-audit-"))
    work.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    ctx = Ctx(work, args.timeout)
    results: list[Result] = []
    start = time.monotonic()
    try:
        print(f"fixtures in {work} ...", flush=True)
        ctx.baseline("dense")
        for n, (item, name, fn) in enumerate(chosen, 1):
            res = run_case(ctx, item, name, fn)
            results.append(res)
            mark = "ok " if res.ok else "BAD"
            why = "" if res.ok else f" — {'; '.join(res.why)[:200]}"
            print(f"{n:3d}/{len(chosen)} {mark} [{item}] {name} ({res.seconds}s){why}", flush=True)
            (args.out / "cases.json").write_text(
                json.dumps([asdict(r) for r in results], indent=1, ensure_ascii=False)
            )
    finally:
        for mnt in ctx.mounts:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True, check=False)
        if not args.keep:
            with contextlib.suppress(OSError):
                subprocess.run(["chmod", "-R", "u+rwX", str(work)], capture_output=True)
                shutil.rmtree(work, ignore_errors=True)
    if args.previous:
        rerun = {(r.item, r.name) for r in results}
        kept = [Result(**r) for f in args.previous for r in json.loads(f.read_text())]
        merged = {(r.item, r.name): r for r in kept if (r.item, r.name) not in rerun}
        merged.update({(r.item, r.name): r for r in results})
        order = {(item, name): i for i, (item, name, _) in enumerate(CASES)}
        results = sorted(merged.values(), key=lambda r: order.get((r.item, r.name), 10**6))
        (args.out / "cases.json").write_text(
            json.dumps([asdict(r) for r in results], indent=1, ensure_ascii=False)
        )
    text = report(results, time.monotonic() - start)
    (args.out / "report.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
