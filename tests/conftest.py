"""Shared fixtures: the real site built once per session, and tiny throwaway sites.

Builds run the real ``mkdocs`` command line (same config loading, same strict
mode, same exit codes and messages a contributor sees).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = [sys.executable, "-m", "mkdocs"]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"}

sys.path.insert(0, str(ROOT / "overrides" / "hooks"))  # import sitekit in unit tests


@dataclass
class Build:
    returncode: int
    output: str  # stdout + stderr
    site: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def html(self, page: str = "index.html") -> str:
        return (self.site / page).read_text(encoding="utf-8")


def run_build(config_file: Path, site_dir: Path, *extra: str) -> Build:
    proc = subprocess.run(
        [*MKDOCS, "build", "--strict", "--config-file", str(config_file), "--site-dir", str(site_dir), *extra],
        cwd=config_file.parent, env=ENV, capture_output=True, text=True, timeout=600,
    )
    return Build(proc.returncode, proc.stdout + proc.stderr, site_dir)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Build:
    """The real site, built strictly once for the whole session."""
    out = tmp_path_factory.mktemp("site")
    build = run_build(ROOT / "mkdocs.yml", out)
    assert build.ok, build.output
    return build


# ---------------------------------------------------------------------------
# Tiny sites: the real configuration and hooks, a handful of pages.

GOOD_BIB = textwrap.dedent("""\
    @article{smith2020ketamine,
      author   = {Smith, Jane A. and Doe, John},
      title    = {Ketamine in a test},
      journal  = {Journal of Tests},
      year     = {2020},
      volume   = {1},
      pages    = {1--10},
      doi      = {10.1000/test.1},
      pmid     = {123456},
      evidence = {rct},
      verified = {https://pubmed.ncbi.nlm.nih.gov/123456/}
    }

    @article{jones2021second,
      author   = {Jones, Ann},
      title    = {A second test},
      journal  = {Journal of Tests},
      year     = {2021},
      doi      = {10.1000/test.2},
      pmid     = {234567},
      pmcid    = {PMC7654321},
      evidence = {meta-analysis},
      verified = {https://pubmed.ncbi.nlm.nih.gov/234567/}
    }

    @article{brown2022third,
      author   = {Brown, Bo},
      title    = {Third test},
      journal  = {Journal of Tests},
      year     = {2022},
      doi      = {10.1000/test.3},
      pmid     = {456123},
      evidence = {preclinical},
      verified = {https://doi.org/10.1000/test.3}
    }

    @report{green2023fourth,
      author   = {Green, Gil},
      title    = {Fourth test},
      institution = {Institute of Tests},
      year     = {2023},
      pmid     = {345678},
      url      = {https://pubmed.ncbi.nlm.nih.gov/345678/},
      evidence = {observational},
      verified = {https://pubmed.ncbi.nlm.nih.gov/345678/}
    }
    """)

KEY_POINTS = textwrap.dedent("""\
    !!! abstract "Key points"

        - First plain point.
        - Second plain point.
        - Third plain point.
    """)


def page(body: str = "Text.", *, title: str = "Test page", front: str | None = None, points: str = KEY_POINTS) -> str:
    """A page that meets the contract, with ``body`` after the key points."""
    if front is None:
        # Four lines, in YAML's flow style: the changes list fits without moving the body, so the line numbers
        # that tests expect in error messages stay the same.
        front = (f"{{title: {json.dumps(title)},\n description: A test page.,\n"
                 " reviewed: 2026-01-01, next_review: 2027-01-01,\n"
                 " changes: [{date: 2026-01-01, summary: First version.}]}\n")
    return f"---\n{front}---\n\n{points}\n{textwrap.dedent(body)}\n"


def tiny_config(root: Path) -> dict:
    """The real mkdocs.yml, pointed at a tiny site in ``root``."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config = copy.deepcopy(config)
    config["site_name"] = "Tiny"
    config.pop("nav", None)
    config["theme"]["custom_dir"] = str(ROOT / "overrides")
    config["hooks"] = [str(ROOT / h) for h in config["hooks"]]
    config["extra"].pop("published_urls")  # tiny sites publish nothing; tests/test_stable_urls.py sets it
    config["extra"]["references"]["every_entry_cited"] = False  # pages cite a few of GOOD_BIB's entries
    for ext in config["markdown_extensions"]:
        if isinstance(ext, dict) and "pymdownx.snippets" in ext:
            ext["pymdownx.snippets"]["base_path"] = [str(root)]
    return config


@pytest.fixture
def tiny(tmp_path):
    """Build a tiny site: tiny(pages={'index.md': page(...)}, bib=..., abbreviations=...)."""

    def build(pages: dict[str, str] | None = None, bib: str = GOOD_BIB, abbreviations: str | None = "*[RCT]: Randomised trial.\n",
              config_changes=None, files: dict[str, str] | None = None) -> Build:
        root = tmp_path / "tiny"
        if root.exists():
            shutil.rmtree(root)
        (root / "docs" / "stylesheets").mkdir(parents=True)
        (root / "includes").mkdir()
        for css in (ROOT / "docs" / "stylesheets").glob("*.css"):  # every stylesheet mkdocs.yml lists
            shutil.copy(css, root / "docs" / "stylesheets" / css.name)
        if abbreviations is not None:
            (root / "includes" / "abbreviations.md").write_text(abbreviations, encoding="utf-8")
        (root / "references.bib").write_text(bib, encoding="utf-8")
        pages = pages if pages is not None else {"index.md": page()}
        for name, text in {**pages, **(files or {})}.items():
            path = root / name if name.startswith(("data/", "includes/")) else root / "docs" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        config = tiny_config(root)
        if config_changes:
            config_changes(config)
        (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return run_build(root / "mkdocs.yml", root / "site")

    return build
