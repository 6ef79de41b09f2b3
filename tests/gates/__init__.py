"""Quality gates the tests run on built sites: W3C Nu HTML Checker (vnu) and Lighthouse.

Reusable on any built site directory, so the same function gates the real site
and proves, on a planted defect, that it fails. The tools come from npm,
pinned in package.json / package-lock.json (``npm ci``, run by
scripts/system-deps.sh from ``make test``).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"


class GateSetupError(RuntimeError):
    """A tool the gate needs is missing: the message says how to install it."""


def require(path: Path, what: str) -> Path:
    if not path.exists():
        raise GateSetupError(
            f"{what} not found at {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
            "run `make test` (or scripts/system-deps.sh, which runs `npm ci`) to install the pinned "
            "Node tools from package-lock.json")
    return path
