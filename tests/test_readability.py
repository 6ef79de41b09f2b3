"""Key points stay plain: the Flesch-Kincaid grade of each page's key points is at most 9.

The grade is computed by ``sitekit.readability`` (textstat, offline) on the key
points as the page contract reads them; ``scripts/readability_report.py`` prints
the same numbers as a table.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import ROOT, page
from sitekit import readability
from sitekit.contract import MAX_POINTS, MIN_POINTS

SCRIPT = ROOT / "scripts" / "readability_report.py"

PLAIN = textwrap.dedent("""\
    !!! abstract "Key points"

        - Ketamine is a drug that doctors use to put people to sleep.
        - It can help some people with low mood for a short time.
        - It can raise blood pressure, so staff watch you after a dose.
    """)

JARGON = textwrap.dedent("""\
    !!! abstract "Key points"

        - Ketamine is a noncompetitive N-methyl-D-aspartate receptor antagonist with dissociative anesthetic properties.
        - Pharmacokinetic variability necessitates individualized intravenous administration protocols.
        - Hemodynamic perturbations, particularly hypertension and tachycardia, require continuous physiological monitoring.
    """)


def write_docs(root, pages: dict[str, str]):
    docs = root / "docs"
    for name, text in pages.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text, encoding="utf-8")
    return docs


def test_every_page_reads_at_grade_9_or_below():
    docs = ROOT / "docs"
    grades = readability.site_grades(docs, root=ROOT)
    pages = sorted(p.relative_to(ROOT).as_posix() for p in docs.rglob("*.md"))
    assert sorted(g.path for g in grades) == pages, "every page has key points the parser can read"
    for g in grades:
        assert MIN_POINTS <= len(g.points) <= MAX_POINTS, g.path
    problems = [g.problem() for g in grades if g.too_hard]
    assert not problems, "key points too hard to read; rewrite them in plainer words:\n" + "\n".join(problems)


def test_jargon_key_points_fail_and_plain_ones_pass(tmp_path):
    docs = write_docs(tmp_path, {
        "index.md": page("Text.", points=PLAIN),
        "safety/jargon.md": page("Text.", title="Jargon", points=JARGON),
    })
    grades = {g.path: g for g in readability.site_grades(docs)}
    plain, jargon = grades["docs/index.md"], grades["docs/safety/jargon.md"]
    assert not plain.too_hard and plain.grade <= readability.MAX_GRADE
    assert jargon.too_hard and jargon.grade > readability.MAX_GRADE
    problem = jargon.problem()
    # front matter (6 lines) + a blank line: the Key points opener is line 8
    assert problem.startswith(f"docs/safety/jargon.md:8: key points read at grade {jargon.grade:.1f} (limit 9)")
    worst_grade, worst = jargon.worst
    assert worst == max(zip(jargon.point_grades, jargon.points, strict=True))[1]
    assert f"hardest point (grade {worst_grade:.1f}): {worst!r}" in problem
    assert [g.path for g in readability.site_grades(docs)] == ["docs/safety/jargon.md", "docs/index.md"]  # hardest first


def test_one_hard_point_among_plain_ones_is_named_as_the_worst(tmp_path):
    hard = "Pharmacokinetic variability necessitates individualized intravenous administration protocols."
    points = PLAIN.replace("    - It can help some people with low mood for a short time.", f"    - {hard}")
    g = readability.page_grade(page("Text.", points=points), "docs/x.md")
    assert g.worst[1] == hard
    assert g.worst[0] > g.grade  # one hard sentence is diluted by the plain ones


def test_grade_is_the_flesch_kincaid_formula():
    # 9 words, 2 sentences, 9 syllables: 0.39 * 9/2 + 11.8 * 9/9 - 15.59 = -2.035
    assert readability.grade(["The cat sat on the mat.", "The dog ran."]) == -2.0
    # 4 words, 1 sentence, 6 syllables (med-i-cine): 0.39 * 4 + 11.8 * 6/4 - 15.59 = 3.67
    assert readability.grade(["The medicine is good."]) == 3.7
    # 4 words, 1 sentence, 9 syllables (hos-pi-tal, an-es-the-sia): 0.39 * 4 + 11.8 * 9/4 - 15.59 = 12.52
    assert readability.grade(["The hospital gave anesthesia."]) == 12.5
    assert readability.grade([]) == 0.0


def test_markdown_is_reduced_to_the_words_a_reader_sees():
    text = "See the [FDA label](https://www.accessdata.fda.gov/label.pdf){: .external } and **bold** `code` <abbr>x</abbr>."
    assert readability.plain(text) == "See the FDA label and bold code x."
    with_url = ["See the [FDA label](https://www.accessdata.fda.gov/drugsatfda_docs/label/2020/211243s004lbl.pdf)."]
    assert readability.grade(with_url) == readability.grade(["See the FDA label."])


def test_grading_needs_no_network_and_no_nltk_download():
    """textstat >= 0.7.9 downloads NLTK's dictionary at run time; the pinned one must not touch the network."""
    code = textwrap.dedent(f"""
        import socket, sys
        def refuse(*args, **kwargs):
            raise OSError("network access attempted")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        sys.path.insert(0, {str(ROOT / "overrides" / "hooks")!r})
        from sitekit import readability
        print(readability.grade(["Ketamine is a medicine.", "Dissociation usually passes within hours."]))
        assert "nltk" not in sys.modules, "textstat now reads NLTK data (downloaded at run time)"
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert float(proc.stdout.strip()) > 0


def run_report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_report_script_writes_the_table_and_fails_on_a_hard_page(tmp_path):
    docs = write_docs(tmp_path / "site", {
        "index.md": page("Text.", points=PLAIN),
        "jargon.md": page("Text.", title="Jargon", points=JARGON),
    })
    out = tmp_path / "reports" / "readability.md"
    proc = run_report("--docs", str(docs), "--output", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = out.read_text(encoding="utf-8")
    assert proc.stdout.strip() == report.strip()  # printed and written
    grades = readability.site_grades(docs)
    rows = [ln for ln in report.splitlines() if ln.startswith("| `")]
    assert rows == [f"| `{g.path}` | {g.grade:.1f}{' **over**' if g.too_hard else ''} | {len(g.points)} | {g.worst[0]:.1f} |"
                    for g in grades]
    assert rows[0].startswith("| `docs/jargon.md` |") and rows[1].startswith("| `docs/index.md` |")
    assert "| Page | Grade | Points | Hardest point's grade |" in report
    assert "- Pages: 2; over grade 9: 1 (`docs/jargon.md`)" in report
    assert "docs/jargon.md:8: key points read at grade" in proc.stderr


def test_report_script_on_the_real_pages(tmp_path):
    out = tmp_path / "readability.md"
    proc = run_report("--output", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = out.read_text(encoding="utf-8")
    pages = list((ROOT / "docs").rglob("*.md"))
    rows = [ln for ln in report.splitlines() if ln.startswith("| `docs/")]
    assert len(rows) == len(pages)
    grades = [float(ln.split("|")[2]) for ln in rows]
    assert grades == sorted(grades, reverse=True) and max(grades) <= readability.MAX_GRADE
    assert f"- Pages: {len(pages)}; over grade 9: 0" in report
