"""Citations: ``[@key]`` -> numbered AMA references, strictly.

Why a hook: the design's citation engine is mkdocs-bibtex, but its own page
handler drops locators, only warns on unknown keys, rewrites citations inside
code and is slow with a CSL style. ``sitekit.engine.CitationsPlugin`` subclasses
it to close those gaps; a subclass cannot be listed under ``plugins:`` without
packaging the repository, so this hook hosts it. Its options are mkdocs-bibtex's
own, read from ``extra.bibtex`` in mkdocs.yml.
"""

from mkdocs.exceptions import ConfigurationError, PluginError
from mkdocs.plugins import event_priority

from sitekit.engine import CitationsPlugin
from sitekit.errors import SiteError

_engine = CitationsPlugin()  # module-level: survives `mkdocs serve` rebuilds, keeping its caches


def on_config(config):
    errors, warnings = _engine.load_config(dict(config.extra.get("bibtex") or {}), config.config_file_path)
    problems = [f"{name}: {err}" for name, err in errors + warnings]
    if problems:
        raise ConfigurationError("extra.bibtex in mkdocs.yml: " + "; ".join(problems))
    try:
        return _engine.on_config(config)
    except SiteError as exc:
        raise PluginError(str(exc)) from exc


@event_priority(50)  # after generated content is inserted (priority 80), before Markdown runs
def on_page_markdown(markdown, page, config, files):
    try:
        return _engine.on_page_markdown(markdown, page, config, files)
    except SiteError as exc:
        raise PluginError(str(exc)) from exc


def on_env(env, config, files):
    return _engine.on_env(env, config, files)


def on_post_page(output, page, config):
    try:
        return _engine.on_post_page(output, page, config)
    except SiteError as exc:
        raise PluginError(str(exc)) from exc
