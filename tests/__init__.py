"""newservice's tests; REPO is this repository's root, where they run the CLI and the tools."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
