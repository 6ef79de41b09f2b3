"""The repository's own promises: two commands, hash-locked deps, strict everywhere, pinned CI."""

from __future__ import annotations

import re
import subprocess

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
                    raise AssertionError(proc.stdout.read())
                time.sleep(0.5)
        assert "<title>What is ketamine? - Ketamine Explained</title>" in html
        assert "livereload" in html  # live reload is injected by the dev server
    finally:
        proc.terminate()
        proc.wait(timeout=30)
