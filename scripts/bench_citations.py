#!/usr/bin/env python3
"""Citation-performance benchmark (a measurement, never a test).

Generates synthetic sites in a temporary directory (pages of ~1,500 words with
citations, and a bibliography of N entries), builds each with the real theme,
Markdown configuration and build hook, and prints the ratios against "the floor":
the same site with the citations taken out of its pages and an empty
bibliography. The citation build is measured cold (empty citation cache, as on a
fresh clone or CI) and warm (cache filled by the previous build, as in
`mkdocs serve` or a second local build).

It also measures `mkdocs serve` rebuilds of the real site after editing one
page, one reference in references.bib and one data file (first, before the
builds load the machine), and prints a speed probe at the start and the end.

Usage:
    make bench                         # all four sizes + serve rebuild
    .venv/bin/python scripts/bench_citations.py --sizes 10:100 50:300 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import resource
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
WORDS = ("ketamine receptor glutamate depression trial patients dose infusion response remission effect "
         "brain synapse signal study placebo relapse evidence review treatment safety blood pressure "
         "week month people clinic nasal spray oral route").split()
DEFAULT_SIZES = ["10:100", "50:300", "200:1000", "500:3000"]
# The same build with pandoc waited for as soon as it starts (before any page renders): what the overlap of
# pandoc with page rendering saves. The build keeps the overlap only if this measurement shows it pays.
PANDOC_FIRST = ("import runpy, sys; sys.path.insert(0, {hooks!r}); from sitekit import refformat as r; start = "
                "r.Formatter.start; r.Formatter.start = lambda self, entries: (start(self, entries), self.result())[0]; "
                "sys.argv[0] = 'mkdocs'; runpy.run_module('mkdocs', run_name='__main__')")


def bib_entry(i: int) -> str:
    key = f"author{i}{2000 + i % 25}study"
    return (f"@article{{{key},\n  author = {{Author{i}, A. B. and Second, C. and Third, D.}},\n"
            f"  title = {{Study number {i} of ketamine and {{NMDA}} receptors in people}},\n"
            f"  journal = {{Journal of Synthetic Results}},\n  year = {{{2000 + i % 25}}},\n"
            f"  volume = {{{i % 90 + 1}}},\n  number = {{{i % 12 + 1}}},\n  pages = {{{i}--{i + 9}}},\n"
            f"  doi = {{10.5555/synthetic.{i}}},\n  pmid = {{{10_000_000 + i}}},\n  evidence = {{rct}},\n"
            f"  verified = {{https://pubmed.ncbi.nlm.nih.gov/{10_000_000 + i}/}}\n}}\n")


KEY_POINTS = ('!!! abstract "Key points"\n\n    - A synthetic page.\n    - It has many citations.\n'
              '    - It is for timing.\n\n')


def page_text(rng: random.Random, keys: list[str], first: list[str], words: int = 1500) -> str:
    """A page; ``first`` are keys cited before random ones, so every entry is cited somewhere."""
    paragraphs, count = [], 0
    while count < words:
        sentences = []
        for _ in range(5):
            n = rng.randint(12, 22)
            sentence = " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()
            if first or rng.random() < 0.5:
                cited = [first.pop()] if first else rng.sample(keys, rng.randint(1, 3))
                sentence += " [" + "; ".join(f"@{k}" for k in cited) + "]"
            sentences.append(sentence + ".")
            count += n
        paragraphs.append(" ".join(sentences))
    return ("---\ntitle: Synthetic page\ndescription: A synthetic page.\nreviewed: 2026-01-01\n"
            "next_review: 2027-01-01\nchanges: [{date: 2026-01-01, summary: First version.}]\n---\n\n" + KEY_POINTS + "## Section\n\n" + "\n\n".join(paragraphs) + "\n")


def make_site(base: Path, pages: int, entries: int, with_citations: bool) -> Path:
    site = base / ("with" if with_citations else "floor")
    (site / "docs").mkdir(parents=True)
    (site / "includes").mkdir()
    (site / "includes" / "abbreviations.md").write_text("*[NMDA]: N-methyl-D-aspartate.\n")
    bib = "".join(bib_entry(i) for i in range(entries))
    (site / "references.bib").write_text(bib if with_citations else "", encoding="utf-8")
    keys = re.findall(r"@article\{([^,]+),", bib)
    rng = random.Random(pages * 7919 + entries)
    uncited = list(keys)
    per_page = -(-len(keys) // pages)
    for i in range(pages):
        name = "index.md" if i == 0 else f"page{i:04d}.md"
        text = page_text(rng, keys, uncited[i * per_page:(i + 1) * per_page])
        if not with_citations:
            text = re.sub(r" \[@[^\]]+\]", "", text)
        (site / "docs" / name).write_text(text, encoding="utf-8")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config.pop("nav", None)
    config["theme"]["custom_dir"] = str(ROOT / "overrides")
    config["hooks"] = [str(ROOT / h) for h in config["hooks"]]
    config["extra"].pop("published_urls", None)
    config["validation"] = {"nav": {"omitted_files": "info"}}
    config.pop("extra_css", None)
    for ext in config["markdown_extensions"]:
        if isinstance(ext, dict) and "pymdownx.snippets" in ext:
            ext["pymdownx.snippets"]["base_path"] = [str(site)]
    (site / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return site


def build_seconds(site: Path, pandoc_first: bool = False) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of the build and its children, pandoc included). On a machine
    shared with other work the CPU time is the steadier measure; the wall clock shows overlap."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    mkdocs = ["-c", PANDOC_FIRST.format(hooks=str(ROOT / "overrides" / "hooks"))] if pandoc_first else ["-m", "mkdocs"]
    proc = subprocess.run([sys.executable, *mkdocs, "build", "--strict", "-d", str(site / "site")],
                          cwd=site, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"build failed in {site}:\n{proc.stdout}{proc.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_size(pages: int, entries: int, repeat: int, overlap: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="kbench-") as tmp:
        base = Path(tmp)
        floor_site = make_site(base, pages, entries, with_citations=False)
        cite_site = make_site(base, pages, entries, with_citations=True)
        # Cold is compared with the floor built cold too (no .cache/ at all, as on a fresh clone: the theme's
        # templates are compiled as well), warm with the floor built warm.
        floor_cold, floor, cold, warm, first = [], [], [], [], []
        for _ in range(repeat):
            shutil.rmtree(floor_site / ".cache", ignore_errors=True)
            floor_cold.append(build_seconds(floor_site))
            floor.append(build_seconds(floor_site))
            shutil.rmtree(cite_site / ".cache", ignore_errors=True)
            cold.append(build_seconds(cite_site))
            warm.append(build_seconds(cite_site))
            if overlap:
                shutil.rmtree(cite_site / ".cache", ignore_errors=True)
                first.append(build_seconds(cite_site, pandoc_first=True))
        html = (cite_site / "site" / "index.html").read_text(encoding="utf-8")
        assert '<sup class="citation"' in html and 'id="references"' in html, "citations were not rendered"
        fo, f, c, w = (statistics.median(t for t, _ in x) for x in (floor_cold, floor, cold, warm))
        # Each ratio is the median of the ratios of builds made one after the other (paired), which a machine
        # whose speed drifts during the run disturbs less than a ratio of medians.
        def paired(num, den, i=0):
            return statistics.median(n[i] / d[i] for n, d in zip(num, den, strict=True))

        result = {"pages": pages, "entries": entries, "floor_cold": fo, "floor": f, "cold": c, "warm": w,
                  "warm_ratio": paired(warm, floor), "cold_ratio": paired(cold, floor_cold),
                  "warm_cpu_ratio": paired(warm, floor, 1), "cold_cpu_ratio": paired(cold, floor_cold, 1)}
        if overlap:  # seconds the overlap saves: the difference of the two medians printed
            result.update(first=statistics.median(t for t, _ in first), first_ratio=paired(first, floor_cold))
            result["saved"] = result["first"] - c
        return result


def _edit_page(text: str, i: int) -> str:
    return text + f"\n<!-- bench edit {i} -->\n"


def _edit_reference(text: str, i: int) -> str:
    """A word at the end of one cited entry's title (the key uses the first word)."""
    return re.sub(r"(@article\{abbar2022ketamine,.*?\btitle\s*=\s*\{.*?)(\},?\n)", rf"\1 edit{i}\2", text,
                  count=1, flags=re.S)


def _edit_data(text: str, i: int) -> str:
    return re.sub(r"(?m)^(\s*-?\s*title:\s*)(\S.*)$", rf"\g<1>\g<2> edit{i}", text, count=1)


EDITS = {"one page": ("docs/what-is-ketamine.md", _edit_page),
         "one reference": ("references.bib", _edit_reference),
         "one data file": ("data/timeline.yml", _edit_data)}


def serve_rebuild(repeat: int) -> dict[str, tuple[list[float], list[float]]]:
    """For each kind of edit of the real site: (seconds from the server noticing the edit to its reload
    of the browsers, less its 0.1 s settle delay: the rebuild, configuration included; seconds from the
    edit to the reload, which adds the file watcher's latency). MkDocs's own "Documentation built in"
    line cannot be used: its logger drops a message it has printed before, so a repeated time is lost."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # A copy of the site, never the working tree: an interrupted run must not leave an edit behind
    # (one once reached a commit this way).
    tmp = tempfile.TemporaryDirectory(prefix="kbench-serve-")
    root = Path(tmp.name) / "site"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns(".git", ".venv", "site", ".cache", "node_modules",
                                                              "reports", "__pycache__"))
    originals = {rel: (root / rel).read_text(encoding="utf-8") for rel, _ in EDITS.values()}
    command = [sys.executable, "-m", "mkdocs", "serve", "--strict", "--dev-addr", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(command,
                            cwd=root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    results = {}
    try:
        _wait_for(proc, "Serving on")
        time.sleep(2)  # the file watcher takes its first snapshot after the server starts
        for kind, (rel, edit) in EDITS.items():
            built, reloaded = [], []
            for i in range(repeat + 1):
                start = time.perf_counter()
                edited = edit(originals[rel], i)
                assert edited != originals[rel], f"the {kind} edit found nothing to change in {rel}"
                (root / rel).write_text(edited, encoding="utf-8")
                _wait_for(proc, "Detected file changes")
                noticed = time.perf_counter()
                _wait_for(proc, "Reloading browsers")
                if i:  # the first rebuild warms caches
                    built.append(time.perf_counter() - noticed - 0.1)
                    reloaded.append(time.perf_counter() - start)
                time.sleep(0.5)
            (root / rel).write_text(originals[rel], encoding="utf-8")
            _wait_for(proc, "Reloading browsers")
            time.sleep(0.5)
            results[kind] = (built, reloaded)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        tmp.cleanup()
    return results


def _lines(proc: subprocess.Popen) -> queue.Queue:
    """The server's output, line by line, read by a thread (so a silent server cannot hang the wait)."""
    if not hasattr(proc, "lines"):
        proc.lines = queue.Queue()
        threading.Thread(target=lambda: [proc.lines.put(line) for line in proc.stdout], daemon=True).start()
    return proc.lines


def _wait_for(proc: subprocess.Popen, marker: str, timeout: float = 180) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            line = _lines(proc).get(timeout=max(0.1, deadline - time.time()))
        except queue.Empty:
            break
        if marker in line:
            return line
    if proc.poll() is not None:
        raise SystemExit("mkdocs serve exited")
    raise SystemExit(f"timed out waiting for {marker!r}")


def speed_probe() -> float:
    """Seconds for a fixed piece of pure-Python work: printed at the start and the end of a run, so a
    machine whose speed changed during the run (it did, by up to a half, here) shows it."""
    start, total = time.perf_counter(), 0
    for i in range(5_000_000):
        total += i
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", default=DEFAULT_SIZES, help="PAGES:ENTRIES pairs")
    parser.add_argument("--repeat", type=int, default=0,
                        help="builds per measurement, median reported (default: 7 for small sites down to 3 for 500 pages; one build of a large site varies by 10%% or more)")
    parser.add_argument("--no-serve", action="store_true", help="skip the mkdocs serve rebuild measurement")
    parser.add_argument("--no-overlap", action="store_true",
                        help="skip the cold builds with pandoc waited for first (what its overlap with rendering saves)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs; Python {sys.version.split()[0]}; speed probe {speed_probe():.2f} s; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    # The serve rebuilds first: they are absolute times, and minutes of full load (the builds below) can slow
    # this machine down by a third or more; the ratios below pair builds made one after the other instead.
    if not args.no_serve:
        for kind, (built, reloaded) in serve_rebuild(args.repeat or 5).items():
            print(f"mkdocs serve, after editing {kind} of the real site: rebuild {statistics.median(built):.2f} s "
                  f"(median; runs {', '.join(f'{t:.2f}' for t in built)}); edit-to-reload "
                  f"{statistics.median(reloaded):.2f} s", flush=True)
    print("wall-clock s, medians (warm: .cache/ kept; cold: no .cache/, as on a fresh clone); ratios: median of\n"
          "paired builds, wall clock, then CPU (build + children, pandoc included)")
    print(f"{'pages':>6} {'entries':>8} {'floor':>7} {'warm':>7} {'ratio':>6} {'floor':>7} {'cold':>7} {'ratio':>6}"
          f"   CPU: {'warm/f':>7} {'cold/f':>7}")
    rows = []
    for size in args.sizes:
        pages, entries = map(int, size.split(":"))
        r = bench_size(pages, entries, args.repeat or max(3, min(7, 350 // pages)), overlap=not args.no_overlap)
        rows.append(r)
        print(f"{pages:>6} {entries:>8} {r['floor']:>7.2f} {r['warm']:>7.2f} {r['warm_ratio']:>5.2f}x "
              f"{r['floor_cold']:>7.2f} {r['cold']:>7.2f} {r['cold_ratio']:>5.2f}x        "
              f"{r['warm_cpu_ratio']:>6.2f}x {r['cold_cpu_ratio']:>6.2f}x", flush=True)
        if "first" in r:
            print(f"{'':>15} cold with pandoc waited for first: {r['first']:.2f} s, {r['first_ratio']:.2f}x the cold "
                  f"floor; the overlap saves {r['saved']:+.2f} s", flush=True)
    if len(rows) > 1:
        per_page = [(r["cold"] - r["floor_cold"]) / r["pages"] for r in rows]
        print("citation overhead per page (cold, s):", " ".join(f"{x:.4f}" for x in per_page))
    print(f"speed probe at the end: {speed_probe():.2f} s; load average: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
