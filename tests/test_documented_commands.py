"""Every command and example that README.md and CONTRIBUTING.md show works as written.

A newcomer copies what the documents say. This module finds every command (fenced shell blocks and
inline code that starts with ``make``, ``.venv/bin/``, ``scripts/``, ``bash .ci/run`` or ``mkdocs``) and
every example (the page template, the BibTeX entry, citation examples) in both files, and:

* runs the cheap commands in a copy of the repository (``make build``, ``make clean``,
  ``make serve``, ``make readability``, the benchmark's documented flags);
* for a command the suite itself runs (``make test``, the gates), checks that what it runs exists
  and is collected by this suite;
* builds the page template exactly as CONTRIBUTING shows it, with the BibTeX example and the
  README's citation examples, in a copy of the real site;
* fails on a documented command it does not know, so a new command cannot be documented untested.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT

DOCUMENTS = {name: (ROOT / name).read_text(encoding="utf-8") for name in ("README.md", "CONTRIBUTING.md")}
COMMAND_START = re.compile(r"^(?:[A-Z_]+=\S+ )*(?:make [a-z]|\.venv/bin/|scripts/\w|bash \.ci/run|mkdocs )")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def documented_commands() -> dict[str, list[str]]:
    """command -> where it is shown ('README.md:12'), from shell blocks and inline code."""
    found: dict[str, list[str]] = {}
    for name, text in DOCUMENTS.items():
        for m in re.finditer(r"^```(?:sh|bash|console)\n(.*?)^```", text, re.S | re.M):
            for offset, line in enumerate(m.group(1).splitlines(), start=1):
                if line.strip():
                    lineno = text.count("\n", 0, m.start()) + 1 + offset
                    found.setdefault(line.strip(), []).append(f"{name}:{lineno}")
        for m in re.finditer(r"(?<!`)`([^`\n]+)`(?!`)", text):
            code = re.sub(r"\s+", " ", m.group(1).strip())
            if COMMAND_START.match(code):
                found.setdefault(code, []).append(f"{name}:{text.count(chr(10), 0, m.start()) + 1}")
    return found


# How each documented command is proved to work. "run": executed below in a copy of the repository.
# "suite": the command runs test files of this suite (checked to exist and be collected).
# "negative": shown as something never to do; the test named proves why.
RUN = {"make build", "make clean", "make serve", "make readability", "make bench",
       "make serve DEV_ADDR=127.0.0.1:8001", "scripts/bench_citations.py --sizes 50:300 --no-serve"}
SUITE = {
    "make test": "tests",  # the whole suite: .ci/run execs it (tests/test_tooling.py)
    "bash .ci/run": "tests",
    "PYTHON=python3.12 make test": "tests",  # the interpreter choice: tests/test_install.py
    "make a11y": "tests/test_browser.py",
    "make html-check": "tests/test_html_valid.py",
    "make lighthouse": "tests/test_lighthouse.py",
    "make pdf": "tests/test_print_edition.py",  # builds the PDF with scripts/build_pdf.py
    "make links": "tests/test_external_links.py",  # needs the network; its checker is tested offline
    "make lock": "tests/test_install.py",  # needs the network; test_lock_command_matches_the_lock below
    "scripts/system-deps.sh": "tests",  # what make test runs first (Debian packages, npm ci)
    "mkdocs serve": "tests/test_tooling.py",  # what make serve runs; also test_make_serve_serves_the_site below
    "make bib-check DIR=tests/corpus": "tests/test_corpus.py",  # test_bib_check_reports_every_disagreement
    ".venv/bin/ruff check .": "tests/test_tooling.py",  # test_ruff_finds_nothing runs it on the repository
}
NEGATIVE = {"mkdocs build -q --strict": "tests/test_tooling.py::test_quiet_mode_hides_strict_warnings"}
PYTEST_FILE = re.compile(r"^\.venv/bin/python -m pytest (tests/\S+\.py)$")
SCRIPT = re.compile(r"^(?:\.venv/bin/python )?(scripts/\S+\.py)(?: .*)?$")


def test_every_documented_command_is_known():
    unknown = {cmd: where for cmd, where in documented_commands().items()
               if cmd not in RUN | set(SUITE) | set(NEGATIVE) and not PYTEST_FILE.match(cmd) and not SCRIPT.match(cmd)}
    assert not unknown, f"documented commands this test does not prove (add them here): {unknown}"
    assert {"make serve", "make test", "make build"} <= set(documented_commands())


def test_suite_commands_run_what_exists():
    for command, target in SUITE.items():
        assert (ROOT / target).exists(), f"{command}: {target} is missing"
        make = re.match(r"^(?:PYTHON=\S+ )?make (\S+)$", command)
        if make:
            assert re.search(rf"^{make.group(1)}:", MAKEFILE, re.M), f"Makefile has no target {make.group(1)!r}"
        if make and target.startswith("tests/test_") and command != "make lock":
            recipe = re.search(rf"^{make.group(1)}:.*\n((?:\t.*\n)+)", MAKEFILE, re.M).group(1)
            script = re.search(r"scripts/\S+\.py|tests/\S+\.py", recipe)
            assert script, f"make {make.group(1)} runs neither a script nor a test file"
            exercised = script.group(0) == target or Path(script.group(0)).name in (ROOT / target).read_text("utf-8")
            assert exercised, f"{target} does not exercise {script.group(0)}"


def test_lock_command_matches_the_lock():
    """`make lock` runs pip-compile with the options requirements.txt records (and pip-compile is installed)."""
    recipe = re.search(r"^lock:.*\n((?:\t.*\n)+)", MAKEFILE, re.M).group(1)
    made = set(re.findall(r"--[a-z-]+", recipe)) - {"--quiet", "--upgrade", "--output-file"}
    header = re.search(r"^#    pip-compile (.*)$", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M).group(1)
    recorded = set(re.findall(r"--[a-z-]+", header)) - {"--output-file"}
    assert made == recorded, f"make lock uses {sorted(made)}, requirements.txt was compiled with {sorted(recorded)}"
    version = subprocess.run([str(Path(sys.executable).parent / "pip-compile"), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "pip-compile" in version.stdout


def test_documented_pytest_commands_collect_tests():
    files = sorted({PYTEST_FILE.match(c).group(1) for c in documented_commands() if PYTEST_FILE.match(c)})
    assert files, "the README shows how to run single gates"
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-o", "addopts=", *files],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for f in files:
        assert re.search(rf"^{re.escape(f)}::", proc.stdout, re.M), f"{f} collects no test"


def test_documented_scripts_exist_and_show_help():
    scripts = sorted({SCRIPT.match(c).group(1) for c in documented_commands() if SCRIPT.match(c)})
    for script in scripts:
        proc = subprocess.run([sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and "usage" in proc.stdout.lower(), f"{script} --help: {proc.stderr}"


# ---------------------------------------------------------------------------
# Commands run for real, in a copy of the repository (never in the working tree).

@pytest.fixture
def repo_copy(tmp_path) -> Path:
    dst = tmp_path / "repo"
    shutil.copytree(ROOT, dst, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "site", "node_modules", ".cache", "reports", "__pycache__", ".pytest_cache"))
    venv = ROOT / ".venv" if (ROOT / ".venv" / ".installed").exists() else Path(sys.prefix)
    (dst / ".venv").symlink_to(venv, target_is_directory=True)
    return dst


def make(repo: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """`make ARGS` as a newcomer runs it: no environment variable from this suite that silences anything."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_MKDOCS_2_WARNING", "PYTHONDONTWRITEBYTECODE")}
    options = [] if (repo / ".venv" / ".installed").exists() else ["-o", ".venv/.installed"]
    return subprocess.run(["make", *options, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)


BANNER = re.compile(r"end of life|MkDocs 2|NO_MKDOCS_2_WARNING|Zensical", re.I)


def test_make_build_then_clean_work_and_print_no_banner(repo_copy):
    built = make(repo_copy, "build")
    output = built.stdout + built.stderr
    assert built.returncode == 0, output
    assert (repo_copy / "site" / "index.html").exists() and (repo_copy / "site" / "print" / "index.html").exists()
    assert not BANNER.search(output), f"make build prints a banner:\n{output}"
    assert not re.search(r"^WARNING", output, re.M), output
    cleaned = make(repo_copy, "clean")
    assert cleaned.returncode == 0, cleaned.stderr
    assert not (repo_copy / "site").exists() and not (repo_copy / ".cache").exists()


def test_make_serve_serves_the_site(repo_copy):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "NO_MKDOCS_2_WARNING"}
    options = [] if (repo_copy / ".venv" / ".installed").exists() else ["-o", ".venv/.installed"]
    proc = subprocess.Popen(["make", *options, "serve", f"DEV_ADDR=127.0.0.1:{port}"], cwd=repo_copy, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline, html = time.time() + 120, ""
        while time.time() < deadline and not html:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:  # follows the redirect
                    html = r.read().decode("utf-8")
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.5)
        assert "Ketamine Explained" in html and "livereload" in html
    finally:
        os.killpg(proc.pid, 15)
        output = proc.communicate(timeout=30)[0]
    assert not BANNER.search(output), output
    assert '"GET / HTTP/1.1" code 302' in output  # the root redirect was served ...
    assert not re.search(r"(?m)^WARNING +-", output), output  # ... and, like everything else, is no MkDocs warning


def test_make_readability_reports_every_page(repo_copy):
    done = make(repo_copy, "readability")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "over grade 9: 0" in done.stdout
    assert (repo_copy / "reports" / "readability.md").exists()


def test_benchmark_runs_with_its_documented_flags(repo_copy):
    """The README's subset command, at the smallest size (the documented 50-page size takes ~35 s)."""
    documented = next(c for c in documented_commands() if c.startswith("scripts/bench_citations.py"))
    assert documented == "scripts/bench_citations.py --sizes 50:300 --no-serve"
    assert re.search(r"^bench:.*\n\t\$\(BIN\)/python scripts/bench_citations\.py", MAKEFILE, re.M)
    proc = subprocess.run([str(repo_copy / ".venv" / "bin" / "python"), "scripts/bench_citations.py", "--sizes", "5:20",
                           "--repeat", "1", "--no-serve"], cwd=repo_copy, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^\s+5\s+20\s+[\d.]+\s+[\d.]+\s+[\d.]+", proc.stdout, re.M), proc.stdout
    # the machine's speed at the start and the end, which the README's numbers are read against
    assert re.search(r"speed probe [\d.]+ s;.*\n(.*\n)*speed probe at the end: [\d.]+ s", proc.stdout), proc.stdout
    # the measurement behind keeping pandoc's overlap with page rendering (README, Performance)
    assert re.search(r"cold with pandoc waited for first: [\d.]+ s, [\d.]+x the cold floor; the overlap saves "
                     r"[+-][\d.]+ s", proc.stdout), proc.stdout



def test_benchmark_killed_mid_serve_leaves_the_working_tree_alone(repo_copy, tmp_path):
    """The serve measurement edits pages, a reference and a data file. It edits a copy: a run killed
    mid-edit (no ``finally`` runs on SIGKILL) once left ``<!-- bench edit 2 -->`` in a page that was
    then committed."""
    watched = ["docs/what-is-ketamine.md", "references.bib", "data/timeline.yml"]
    before = {rel: (repo_copy / rel).read_bytes() for rel in watched}
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([str(repo_copy / ".venv" / "bin" / "python"), "scripts/bench_citations.py", "--sizes",
                             "--repeat", "1"], cwd=repo_copy, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 300
        edited = None
        while time.time() < deadline and proc.poll() is None and edited is None:
            edited = next((p for p in tmp_path.glob("kbench-serve-*/site/docs/what-is-ketamine.md")
                           if "bench edit" in p.read_text(encoding="utf-8", errors="replace")), None)
            time.sleep(0.05)
        assert edited is not None, "the benchmark never edited its copy of the site"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert {rel: (repo_copy / rel).read_bytes() for rel in watched} == before

# ---------------------------------------------------------------------------
# Examples: copied exactly as shown, built in a copy of the real site.

def contributing_block(language: str) -> str:
    text = DOCUMENTS["CONTRIBUTING.md"]
    m = re.search(rf"^( *)```{language}\n(.*?)^\1```", text, re.S | re.M)
    assert m, f"CONTRIBUTING has no {language} example"
    indent = len(m.group(1))
    return "".join(line[indent:] + "\n" for line in m.group(2).splitlines())


def citation_examples() -> tuple[list[str], list[str]]:
    """Every citation shown in inline code: (examples that must work, examples shown as failing).

    A line that says the syntax "fails" shows failing examples; a line saying it is "left exactly as
    written" shows no citation; every other inline ``[@...]`` is an example a contributor may copy.
    """
    good, bad = [], []
    for text in DOCUMENTS.values():
        for item in re.split(r"\n(?=\s*(?:[-|#*]|\d+\.|\n))", text):  # a bullet, a table row or a paragraph
            spans = re.findall(r"`(\[[^`\]]*@[^`\]]*\])`", item)
            if not spans or "as written" in item:
                continue
            (bad if re.search(r"\bfails?\b", item) else good).extend(spans)
    return good, bad


def test_page_template_and_bibtex_example_build_as_written(repo_copy):
    template = contributing_block("markdown")
    bibtex = contributing_block("bibtex")
    key = re.match(r"@\w+\{([^,]+),", bibtex).group(1)
    bib = (repo_copy / "references.bib").read_text(encoding="utf-8")
    start = bib.index("@article{" + key + ",") if ("{" + key + ",") in bib else None
    assert start is not None, f"the BibTeX example ({key}) must be a real, verified entry of references.bib"
    entry = bib[start: bib.index("\n}\n", start) + 2]
    assert entry.strip() == bibtex.strip(), "the BibTeX example must be copied from references.bib exactly"
    # The steps of "Adding or editing a page": the file, then its URL in published-urls.txt.
    step1 = re.search(r"e\.g\. `(docs/[\w/-]+\.md)`", DOCUMENTS["CONTRIBUTING.md"]).group(1)
    step4 = re.search(r"published-urls\.txt` \(e\.g\. `(/[\w/-]+/)`\)", DOCUMENTS["CONTRIBUTING.md"]).group(1)
    (repo_copy / step1).write_text(template, encoding="utf-8")
    good, _ = citation_examples()
    body = "\n\n".join(f"Example {i} {cite}." for i, cite in enumerate(good, start=1))
    (repo_copy / "docs" / "safety" / "citation-examples.md").write_text(template.replace(
        "Body text with citations", body + "\n\nBody text with citations"), encoding="utf-8")
    with open(repo_copy / "published-urls.txt", "a", encoding="utf-8") as f:
        f.write(f"{step4}\n/safety/citation-examples/\n")
    done = make(repo_copy, "build")
    assert done.returncode == 0, done.stdout + done.stderr
    html = (repo_copy / "site" / step4.strip("/") / "index.html").read_text(encoding="utf-8")
    assert html.count('<sup class="citation"') == 1 and 'id="references"' in html
    examples = (repo_copy / "site" / "safety" / "citation-examples" / "index.html").read_text(encoding="utf-8")
    assert examples.count('<sup class="citation"') == len(good) + 1


def test_examples_shown_as_failing_fail_with_file_and_line(tiny):
    from conftest import page

    _, bad = citation_examples()
    assert bad, "CONTRIBUTING shows which citation forms fail"
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    for example in bad:
        built = tiny({"index.md": page(f"Para one.\n\nA claim {example}.\n")}, bib=bib)
        assert not built.ok, f"{example} is documented as failing but builds"
        assert re.search(r"docs/index\.md:1[0-9]: ", built.output), built.output
        assert "Traceback" not in built.output


def test_citation_examples_use_real_keys():
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"^@\w+\{([^,\s]+),", bib, re.M))
    good, bad = citation_examples()
    assert len(good) >= 4, good
    for example in good + bad:
        for key in re.findall(r"@([a-z0-9-]+)", example):
            assert key in keys, f"{example}: '{key}' is not in references.bib, so the example cannot work as written"
