"""The repository's own promises: two commands, hash-locked deps, strict everywhere, pinned CI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT, run_build

README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_command(label: str) -> str:
    m = re.search(rf"{label}.*?```(?:sh|bash|console)?\n(.+?)\n```", README, re.S)
    assert m, f"README has no command block for {label!r}"
    return m.group(1).strip()


def test_readme_opens_with_serve_and_test_commands():
    head = README[:1500]
    assert "make serve" in head and "make test" in head
    assert "http://127.0.0.1:8000" in README


def test_ci_runs_exactly_the_readme_test_command():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = readme_command("Run every test")
    lines = [ln.strip() for ln in run.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert lines[-1] == f"exec {command}" or lines[-1] == command


def test_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("serve", "test", "build", "lock", "bench"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "--require-hashes" in makefile
    assert re.search(r"mkdocs serve[^\n]*--dev-addr \$\(DEV_ADDR\)", makefile)
    assert re.search(r"^DEV_ADDR \?= 127\.0\.0\.1:8000$", makefile, re.M)


def test_every_locked_requirement_is_pinned_with_hashes():
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    blocks = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})+)", text, re.M)
    names = re.findall(r"^([A-Za-z0-9_.\-]+)==", text, re.M)
    assert names and len(blocks) == len(names)
    pinned = {n.lower().replace("_", "-"): v for n, v, _ in blocks}
    assert pinned["mkdocs-bibtex"] == "4.4.0"
    assert pinned["mkdocs"].startswith("1.")
    assert pinned["mkdocs-material"].startswith("9.")
    assert "--index-url" not in text and "file://" not in text and "--find-links" not in text


def test_no_quiet_strict_builds_anywhere():
    """-q hides warnings from --strict's counter, so the two are never combined."""
    paths = [ROOT / "Makefile", ROOT / ".ci" / "run", *(ROOT / ".github" / "workflows").glob("*.yml")]
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "mkdocs" in line and re.search(r"\s(-q|--quiet)\b", line):
                raise AssertionError(f"{path.name}: {line.strip()}")


def test_quiet_mode_hides_strict_warnings(tmp_path):
    """The gotcha itself: the same warning fails a strict build but passes with -q."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\n[broken](missing.md)\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: T\nvalidation:\n  links:\n    not_found: warn\n", encoding="utf-8")
    strict = run_build(config, tmp_path / "s1")
    assert not strict.ok and "missing.md" in strict.output
    quiet = run_build(config, tmp_path / "s2", "-q")
    assert quiet.ok, "if -q no longer hides warnings, this gotcha note can be retired"


def test_real_config_is_strict():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["strict"] is True
    assert config["theme"]["font"] is False
    for group in ("nav", "links"):
        for name, level in config["validation"][group].items():
            assert level == "warn", f"validation.{group}.{name}"


def test_workflows_pin_actions_and_limit_permissions():
    for path in (ROOT / ".github" / "workflows").glob("*.yml"):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert "permissions" in workflow, f"{path.name}: top-level permissions"
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                uses = step.get("uses")
                if uses:
                    assert re.search(r"@v\d+(\.\d+)*$|@[0-9a-f]{40}$", uses), f"{path.name}: {uses} is not pinned"


def test_hooks_are_small_and_documented():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    for hook in config["hooks"]:
        text = (ROOT / hook).read_text(encoding="utf-8")
        assert text.lstrip().startswith('"""') and "Why" in text.split('"""')[1], f"{hook}: docstring must say why"
        code = [ln for ln in text.split('"""', 2)[2].splitlines() if ln.strip() and not ln.strip().startswith("#")]
        assert len(code) <= 40, f"{hook}: keep hooks thin ({len(code)} lines); move logic to sitekit"


def test_gitignore_keeps_build_output_out():
    paths = ["site/index.html", ".venv/bin/python", ".cache/citations/references.json"]
    ignored = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True)
    assert ignored.stdout.split() == paths


def test_serve_command_shows_the_site(tmp_path):
    """`make serve` runs `mkdocs serve --strict`; start the same server on a free loopback port."""
    import socket
    import time
    import urllib.request

    from conftest import ENV, MKDOCS

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*MKDOCS, "serve", "--strict", "--dev-addr", f"127.0.0.1:{port}"], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, html = time.time() + 120, ""
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ketamine-explained/what-is-ketamine/", timeout=5) as r:
                    html = r.read().decode("utf-8")
                    break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stdout.read()) from None
                time.sleep(0.5)
        assert "<title>What is ketamine? - Ketamine Explained</title>" in html
        assert "livereload" in html  # live reload is injected by the dev server
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_ruff_finds_nothing():
    """`ruff check` with the rules in pyproject.toml ([tool.ruff.lint]) passes on the whole repository."""
    ruff = Path(sys.executable).parent / "ruff"
    assert ruff.exists(), "ruff is in requirements.txt"
    proc = subprocess.run([str(ruff), "check", "--no-cache", "--output-format", "concise", str(ROOT)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, ("ruff check found problems (fix them, or explain an ignore in pyproject.toml):\n"
                                  + proc.stdout + proc.stderr)


def test_no_theme_template_is_copied():
    """Block overrides, never copied theme partials: a copy silently drops the theme's fixes on upgrade.

    Only main.html (the block overrides) and 404.html (which extends it) may share a name with a
    Material template; every other file in overrides/ must be the project's own.
    """
    import material

    theme = Path(material.__file__).parent / "templates"
    shadowed = sorted(p.relative_to(ROOT / "overrides").as_posix() for p in (ROOT / "overrides").rglob("*.html")
                      if (theme / p.relative_to(ROOT / "overrides")).exists())
    assert shadowed == ["404.html", "main.html"], f"copied theme templates: {shadowed}; use a block in main.html"


def test_repository_link_makes_no_github_api_call(site):
    """Material's repository widget (data-md-component="source") asks api.github.com for stars on every page;
    main.html's header and site_nav blocks drop that attribute, leaving a plain link."""
    for name in ("index.html", "404.html", "safety/index.html"):
        html = site.html(name)
        assert html.count('class="md-source"') == 2, name  # header and navigation drawer
        assert 'data-md-component="source"' not in html, name


def test_files_named_in_comments_exist():
    """A comment that points at a test or script must point at one that exists (mkdocs.yml once named a
    tests/test_strict.py that never did)."""
    for name in ("mkdocs.yml", "Makefile", "pyproject.toml", ".lychee.toml", "requirements.in"):
        path = ROOT / name
        if not path.exists():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for ref in re.findall(r"((?:tests|scripts)/[\w/]+\.(?:py|sh))(?:::(\w+))?", line):
                file, function = ref
                assert (ROOT / file).exists(), f"{name}:{number}: {file} does not exist"
                if function:
                    assert f"def {function}(" in (ROOT / file).read_text(encoding="utf-8"), f"{name}:{number}: {file}::{function}"
