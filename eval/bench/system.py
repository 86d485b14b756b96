"""What the figures were measured on and with: machine, process memory, bytes on disk."""

from __future__ import annotations

import os
import platform
import resource
from pathlib import Path
from typing import Any

from rag.store import PassageStore
from rag.version import memrag_version


def _proc_field(path: str, key: str) -> str | None:
    """The value after `key:` in a /proc text file, or None off Linux."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, RAM, OS and Python of this machine, plus the memrag version."""
    mem_kb = _proc_field("/proc/meminfo", "MemTotal")
    flags = (_proc_field("/proc/cpuinfo", "flags") or "").split()
    return {
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem_kb.split()[0]) / 2**20, 1) if mem_kb else None,
        # The AVX-512 flags decide which FAISS and OpenVINO kernels run, so they explain timings.
        "simd": [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags],
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "memrag_version": memrag_version(),
    }


def machine_line(info: dict[str, Any]) -> str:
    """A one-line description of a `machine_info()` dict."""
    simd = "/".join(info.get("simd") or []) or "no AVX"
    return (
        f"{info['cpu']}, {info['cores']} cores ({simd}), {info['ram_gib']} GiB RAM, "
        f"{info['system']}, Python {info['python']}, memrag {info['memrag_version']}"
    )


def rss_mb() -> float:
    """Current resident memory of this process, in MiB."""
    value = _proc_field("/proc/self/status", "VmRSS")
    if value is None:  # not Linux: the peak is the best figure available
        return peak_rss_mb()
    return int(value.split()[0]) / 1024


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    # VmHWM, not getrusage: ru_maxrss survives exec, so a spawned child would report at least
    # the RSS of the parent it was forked from.
    value = _proc_field("/proc/self/status", "VmHWM")
    if value is not None:
        return int(value.split()[0]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def round_sig(value: float, digits: int = 4) -> float:
    """`value` rounded to `digits` significant digits, so tiny timings do not round to 0."""
    return float(f"{value:.{digits}g}")


def disk_mb(path: Path) -> float:
    """Disk space used under `path` as `du` counts it (allocated blocks), in MiB."""
    if path.is_file():
        return path.stat().st_blocks * 512 / 2**20
    total = 0
    for root, _, files in os.walk(path):
        total += sum((Path(root) / f).stat().st_blocks * 512 for f in files)
    return total / 2**20


def index_dir_sizes(index_dir: Path) -> dict[str, float]:
    """Disk MiB of an index dir, per part (passage store, each index sub-folder) and total."""
    sizes = {
        entry.name + ("/" if entry.is_dir() else ""): round(disk_mb(entry), 3)
        for entry in sorted(index_dir.iterdir())
        if entry.is_dir() or entry.name == PassageStore.FILENAME
    }
    sizes["total"] = round(disk_mb(index_dir), 3)
    return sizes
