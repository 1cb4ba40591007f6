"""What the numbers were measured on: the machine, its load, the versions."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import REPO


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return one, five, fifteen


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def _checkout() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" with uncommitted changes" if git("status", "--porcelain") else "")


@dataclass
class Machine:
    cores: int = field(default_factory=lambda: os.cpu_count() or 0)
    cpu: str = field(default_factory=_cpu_model)
    memory_gib: float = field(default_factory=_memory_gib)
    system: str = field(default_factory=lambda: f"{platform.system()} {platform.release()}")
    python: str = field(default_factory=lambda: sys.version.split()[0])
    newservice: str = field(default_factory=lambda: importlib.metadata.version("newservice"))
    copier: str = field(default_factory=lambda: importlib.metadata.version("copier"))
    checkout: str = field(default_factory=_checkout)
    load_before: tuple[float, float, float] = field(default_factory=load_average)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    service_versions: dict[str, str] = field(default_factory=dict)
