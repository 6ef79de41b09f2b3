"""The install step of `make serve` / `make test` needs nothing the README does not say.

A fresh clone creates `.venv` with the interpreter's own bundled pip (pip 23.0 on Debian 12's
python3 3.11.2, 23.2 with 3.11.7 and 3.12.1, 24.2 with 3.13.0), which rejects this lock unless the
Makefile first upgrades pip from its hash-pinned line. `.ci/run` proves the whole first run (no
venv, no pip cache); these tests pin the promises that run depends on, offline.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess

from packaging.specifiers import SpecifierSet

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
LOCK = (ROOT / "requirements.txt").read_text(encoding="utf-8")


def supported_pythons() -> list[str]:
    """The interpreters the README names: 'Python 3.11, 3.12 or 3.13'."""
    m = re.search(r"Python (3\.\d+), (3\.\d+) or (3\.\d+)", README)
    assert m, "README must name the supported Python versions as 'Python 3.X, 3.Y or 3.Z'"
    return list(m.groups())


def install_recipe() -> list[str]:
    m = re.search(r"^\$\(STAMP\): requirements\.txt\n((?:\t.*\n)+)", MAKEFILE, re.M)
    assert m, "Makefile has no install rule for $(STAMP)"
    return [line.strip().lstrip("@") for line in m.group(1).splitlines()]


def test_every_locked_package_accepts_every_supported_python():
    """A pin that needs a newer patch release (pymdown-extensions 13 needs 3.11.5) fails on Debian's 3.11.2."""
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", LOCK, re.M))
    floors = [f"{v}.0" for v in supported_pythons()]
    checked, refused = 0, []
    for name, version in pins.items():
        dist = importlib.metadata.distribution(name)
        assert dist.version == version, f"{name}: installed {dist.version}, locked {version} (run make)"
        spec = dist.metadata.get("Requires-Python")
        if spec:
            checked += 1
            refused += [f"{name}=={version} requires Python {spec}" for v in floors if v not in SpecifierSet(spec)]
    assert checked > 50, "Requires-Python was read from the installed packages"
    assert not refused, refused


def test_makefile_checks_the_same_floor_the_readme_states():
    lowest = min(supported_pythons(), key=lambda v: tuple(map(int, v.split("."))))
    major, minor = lowest.split(".")
    check = next(line for line in install_recipe() if "sys.version_info" in line)
    assert f"sys.version_info >= ({major}, {minor})" in check
    assert ", ".join(supported_pythons()[:-1]) in check, "the error message names the supported versions"
    assert re.search(r"\$\(PYTHON\) -m venv \$\(VENV\)", MAKEFILE), "the venv comes from the chosen interpreter"


def test_pip_is_upgraded_from_its_locked_line_before_the_lock_is_installed(tmp_path):
    """Run the Makefile's own extraction command: it must yield exactly the hash-pinned pip of the lock."""
    recipe = install_recipe()
    extract = next(line for line in recipe if line.startswith("awk"))
    command = extract.replace("$$", "$").replace("$(VENV)", str(tmp_path))
    subprocess.run(command, shell=True, cwd=ROOT, check=True)
    stanza = (tmp_path / "pip-lock.txt").read_text(encoding="utf-8")
    locked_pip = re.search(r"^pip==(\S+)", LOCK, re.M).group(1)
    assert re.fullmatch(rf"pip=={re.escape(locked_pip)} \\\n(    --hash=sha256:[0-9a-f]{{64}}( \\)?\n)+", stanza), stanza
    # Older pip (< 23.3) rejects the lock itself, so the order matters: venv, pip from the lock, then the lock.
    venv = next(i for i, line in enumerate(recipe) if " -m venv " in line)
    bootstrap = next(i for i, line in enumerate(recipe) if "pip-lock.txt" in line and "install" in line)
    lock = next(i for i, line in enumerate(recipe) if "-r requirements.txt" in line and "install" in line)
    assert venv < bootstrap < lock
    assert "--require-hashes" in recipe[bootstrap] and "--no-deps" in recipe[bootstrap]
    assert "--require-hashes" in recipe[lock]


def test_ci_starts_from_the_bundled_pip_with_nothing_warm():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^rm -rf \.venv$", run, re.M), ".ci/run must not reuse a venv"
    assert re.search(r"^export PIP_NO_CACHE_DIR=1$", run, re.M), ".ci/run must not reuse pip's cache"
    assert "ensurepip.version()" in run, ".ci/run prints the pip version the venv starts from"


def test_readme_says_what_the_first_run_does():
    first_run = README[: README.index("## Other commands")]
    for promise in ("Python", "bundled", "requirements.txt", "apt-get", "npm ci"):
        assert promise in first_run, f"README's set-up section must mention {promise!r}"
