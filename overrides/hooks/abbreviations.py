"""Abbreviation tooltips without the per-page parsing cost.

Why: pymdownx.snippets appends includes/abbreviations.md (300+ definitions) to
every page, and Python-Markdown's abbr extension reads one definition per pass,
re-scanning the rest of the block each time. ``sitekit.mdabbr`` reads a whole
block of definitions at once; this hook adds it next to 'abbr'.
"""

from sitekit.mdabbr import FastAbbreviations


def on_config(config):
    if "abbr" in config.markdown_extensions:
        config.markdown_extensions.append(FastAbbreviations())
    return config
