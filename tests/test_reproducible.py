"""Two builds of the same commit produce byte-identical site/ trees.

Builds run the command contributors use (``conftest.run_build``) on one frozen
copy of the sources, as a fresh clone has them. The first build is cold (no
citation cache); the others differ from it in everything that must not matter:
a warm citation cache, the build date (SOURCE_DATE_EPOCH on another day),
Python's hash seed, the output directory and the checkout's location.
``tree_differences`` is the comparison; the planted-defect tests prove it
catches a missing, extra or changed file, including a time stamp written by a
real build.
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
import shutil
import struct
import subprocess
import textwrap
import threading
import zlib
from pathlib import Path

import pytest

from conftest import ENV, ROOT, page, run_build
from sitekit import nav
from sitekit.pagedate import FALLBACK_DATE, page_date

ANOTHER_DAY = "1000000000"  # 2001-09-09: a build date that is surely not today


# ---------------------------------------------------------------------------
# The comparison

def _hint(rel: str, a: bytes, b: bytes) -> str:
    """A short description of how two versions of a file differ."""
    if rel.endswith(".gz"):
        try:
            ua, ub = gzip.decompress(a), gzip.decompress(b)
        except (OSError, EOFError, zlib.error):
            ua = ub = None
        if ua is not None and ua == ub:
            ta, tb = struct.unpack("<I", a[4:8])[0], struct.unpack("<I", b[4:8])[0]
            return f"same content, different gzip header (timestamp {ta} vs {tb})" if ta != tb else "gzip header differs"
        if ua is not None:
            return "compressed content differs: " + _hint(rel[:-3], ua, ub)
    try:
        la, lb = a.decode("utf-8").splitlines(), b.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        return f"binary files differ from byte {i} (sizes {len(a)} and {len(b)})"
    changed = [k for k in range(max(len(la), len(lb))) if k >= min(len(la), len(lb)) or la[k] != lb[k]]
    if not changed:
        return "only line endings or a final newline differ"
    k = changed[0]
    x, y = (la[k] if k < len(la) else ""), (lb[k] if k < len(lb) else "")
    col = next((c for c, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y)))
    start = max(0, col - 60)
    return (f"text differs on {len(changed)} line(s), first at line {k + 1}, column {col + 1}:\n"
            f"    - {x[start:col + 60]}\n    + {y[start:col + 60]}")


def tree_differences(a: Path, b: Path) -> list[str]:
    """Every file missing from one tree, or whose bytes differ, with a hint; [] if identical."""
    files_a = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    out = [f"{rel}: only in the first tree" for rel in sorted(files_a - files_b)]
    out += [f"{rel}: only in the second tree" for rel in sorted(files_b - files_a)]
    for rel in sorted(files_a & files_b):
        x, y = (a / rel).read_bytes(), (b / rel).read_bytes()
        if x != y:
            out.append(f"{rel}: {_hint(rel, x, y)}")
    return out


def assert_identical(a: Path, b: Path) -> None:
    diffs = tree_differences(a, b)
    assert not diffs, f"{len(diffs)} files differ between two builds of the same sources:\n" + "\n".join(diffs[:20])


def site_files(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]


# ---------------------------------------------------------------------------
# The real site, built from one frozen copy of the sources (so that nobody's
# edit between two builds can pass for non-determinism)

def fresh_copy(dest: Path) -> Path:
    """The sources as a fresh clone would have them (tracked and new files, nothing ignored: no .cache)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file() and not rel.startswith("node_modules/"):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Three builds of the same sources: cold; warm on another day; cold in another checkout.

    ``first`` is what a contributor gets from a fresh clone: ``mkdocs build`` with
    an empty citation cache, today's date and a random hash seed.
    """
    tmp = tmp_path_factory.mktemp("reproducible")
    clone = fresh_copy(tmp / "clone")
    other = shutil.copytree(clone, tmp / "elsewhere" / "checkout")
    assert not (clone / ".cache").exists()
    first = run_build(clone / "mkdocs.yml", tmp / "first")
    assert first.ok, first.output
    assert "Loading data from bib files" in first.output  # the engine really formatted the references
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(ENV, "SOURCE_DATE_EPOCH", ANOTHER_DAY)  # MkDocs' "today" for these builds
        mp.setitem(ENV, "PYTHONHASHSEED", "12345")  # the first build used a random seed
        warm = run_build(clone / "mkdocs.yml", tmp / "warm")
        assert warm.ok, warm.output
        assert "Loading data from bib files" not in warm.output  # every reference came from the cache
        moved = run_build(other / "mkdocs.yml", tmp / "moved")
        assert moved.ok, moved.output
    return {"first": first.site, "warm": warm.site, "moved": moved.site}


@pytest.mark.xdist_group("reproducible")
def test_a_warm_rebuild_on_another_day_is_byte_identical(builds):
    files = site_files(builds["first"])
    assert len(files) > 50 and "sitemap.xml.gz" in files and "search/search_index.json" in files
    assert_identical(builds["first"], builds["warm"])


@pytest.mark.xdist_group("reproducible")
def test_a_build_in_another_checkout_is_byte_identical(builds):
    assert_identical(builds["first"], builds["moved"])


# ---------------------------------------------------------------------------
# The fixes, on tiny sites

def test_sitemap_is_dated_by_review_not_by_build(tiny, tmp_path, monkeypatch):
    later = ("title: Later\ndescription: A test page.\nreviewed: 2026-03-05\nnext_review: 2027-03-05\n"
             "changes:\n  - date: 2026-03-05\n    summary: First version.\n")
    pages = {"index.md": page(), "later.md": page(front=later)}
    first = tiny(pages)
    assert first.ok, first.output
    kept = tmp_path / "first"
    shutil.copytree(first.site, kept)
    monkeypatch.setitem(ENV, "SOURCE_DATE_EPOCH", ANOTHER_DAY)
    second = tiny(pages)
    assert second.ok, second.output
    assert_identical(kept, second.site)
    sitemap = second.html("sitemap.xml")
    assert re.findall(r"<lastmod>(.*?)</lastmod>", sitemap) == ["2026-01-01", "2026-03-05"]
    gz = (second.site / "sitemap.xml.gz").read_bytes()
    assert gzip.decompress(gz).decode("utf-8") == sitemap
    newest = dt.datetime(2026, 3, 5, tzinfo=dt.UTC).timestamp()
    assert struct.unpack("<I", gz[4:8])[0] == newest  # the gzip timestamp is the newest review


def test_page_date_falls_back_to_a_fixed_date():
    assert page_date({"reviewed": dt.date(2026, 1, 2)}) == "2026-01-02"
    assert page_date({"reviewed": "2026-01-02"}) == "2026-01-02"
    assert page_date({"reviewed": dt.datetime(2026, 1, 2, 10, 30)}) == "2026-01-02"
    assert page_date({}) == page_date({"reviewed": "soon"}) == FALLBACK_DATE == "1970-01-01"


def test_pages_finished_after_the_build_match_a_warm_build(tmp_path, monkeypatch):
    """Cold cache + slow engine: every page is completed after the build. The bytes must not show it."""
    from concurrent.futures import ThreadPoolExecutor

    import yaml
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    import conftest
    from sitekit import engine

    slow, deferred, release = engine.format_with_engine, [], threading.Event()

    def slow_engine(*args):  # formatting cannot finish before the build has written every page
        assert release.wait(120), "the build never reached on_post_build"
        return slow(*args)

    post_build = engine.Citations.on_post_build

    def counting_post_build(self, config):
        deferred.extend(p.file.src_uri for p in self.deferred)
        release.set()
        return post_build(self, config)

    monkeypatch.setattr(engine, "format_with_engine", slow_engine)
    monkeypatch.setattr(engine, "_executor", lambda: ThreadPoolExecutor(max_workers=1))
    monkeypatch.setattr(engine.Citations, "on_post_build", counting_post_build)
    root = tmp_path / "tiny"
    (root / "docs" / "stylesheets").mkdir(parents=True)
    (root / "includes").mkdir()
    shutil.copy(ROOT / "docs" / "stylesheets" / "site.css", root / "docs" / "stylesheets" / "site.css")
    (root / "includes" / "abbreviations.md").write_text("*[RCT]: Randomised trial.\n")
    (root / "references.bib").write_text(conftest.GOOD_BIB)
    (root / "docs" / "index.md").write_text(page("A claim [@smith2020ketamine; @jones2021second].\n"))
    (root / "docs" / "other.md").write_text(page("Another [@jones2021second, p. 4] and [@brown2022third].\n",
                                                  title="Other"))
    (root / "mkdocs.yml").write_text(yaml.safe_dump(conftest.tiny_config(root)))
    monkeypatch.chdir(root)
    build(load_config(str(root / "mkdocs.yml"), site_dir=str(root / "cold")))
    assert sorted(deferred) == ["index.md", "other.md"]  # both pages really took the late path
    warm = run_build(root / "mkdocs.yml", root / "warm")
    assert warm.ok, warm.output
    assert "Loading data from bib files" not in warm.output  # served from the cache
    assert_identical(root / "cold", root / "warm")


def test_nav_order_does_not_depend_on_the_directory_listing(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    for name in ("sec/index.md", "sec/b.md", "sec/a.md", "sec/z/index.md", "sec/y/index.md"):
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text("---\ntitle: Same\n---\n", encoding="utf-8")
    listing = Path.iterdir
    orders = []
    for reverse in (False, True):
        monkeypatch.setattr(Path, "iterdir", lambda self, r=reverse: iter(sorted(listing(self), reverse=r)))
        orders.append(nav.section(docs, "sec"))
    assert orders[0] == orders[1]
    assert orders[0] == ["sec/index.md", "sec/a.md", "sec/b.md", {"Same": ["sec/y/index.md"]},
                         {"Same": ["sec/z/index.md"]}]


# ---------------------------------------------------------------------------
# Planted defects: the comparison catches what it must

def test_comparison_names_missing_extra_and_changed_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        (root / "sub").mkdir(parents=True)
        (root / "same.html").write_text("<p>same</p>\n")
    (a / "sub" / "page.html").write_text("<p>one</p>\n<p>built 2026-01-01</p>\n")
    (b / "sub" / "page.html").write_text("<p>one</p>\n<p>built 2026-01-02</p>\n")
    (a / "only-a.txt").write_text("x")
    (b / "only-b.txt").write_text("y")
    (a / "data.bin").write_bytes(b"\x00\x01\x02\xff")
    (b / "data.bin").write_bytes(b"\x00\x01\x03\xff")
    for root, stamp in ((a, 1), (b, 2)):
        with open(root / "sitemap.xml.gz", "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=stamp) as gz:
            gz.write(b"<urlset/>")
    diffs = tree_differences(a, b)
    assert diffs[0] == "only-a.txt: only in the first tree"
    assert diffs[1] == "only-b.txt: only in the second tree"
    assert diffs[2] == "data.bin: binary files differ from byte 2 (sizes 4 and 4)"
    assert diffs[3] == "sitemap.xml.gz: same content, different gzip header (timestamp 1 vs 2)"
    assert diffs[4] == ("sub/page.html: text differs on 1 line(s), first at line 2, column 19:\n"
                        "    - <p>built 2026-01-01</p>\n    + <p>built 2026-01-02</p>")
    assert len(diffs) == 5
    assert tree_differences(a, a) == []


STAMP_HOOK = textwrap.dedent("""\
    import time

    def on_page_content(html, page, config, files):
        return html + f"<p>built at {time.time_ns()}</p>"
    """)


def test_comparison_catches_a_build_that_stamps_the_time(tiny, tmp_path):
    root = tmp_path / "tiny"  # where the tiny fixture builds

    def add_hook(config):
        config["hooks"].append(str(root / "includes" / "stamp.py"))

    sites = []
    for n in (1, 2):
        b = tiny({"index.md": page()}, files={"includes/stamp.py": STAMP_HOOK}, config_changes=add_hook)
        assert b.ok, b.output
        sites.append(shutil.copytree(b.site, tmp_path / f"build{n}"))
    diffs = {d.split(":", 1)[0]: d for d in tree_differences(*sites)}
    assert {"index.html", "search/search_index.json"} <= set(diffs), diffs  # the page, and the index of its text
    assert re.search(r"\n    - .*built at \d+.*\n    \+ .*built at \d+", diffs["index.html"]), diffs["index.html"]
    assert "built at" in diffs["search/search_index.json"]  # one long line: the hint shows where it differs
