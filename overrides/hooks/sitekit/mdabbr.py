"""Glossary tooltips with one pattern per glossary, built as a trie.

Why: Python-Markdown's abbr tree processor compiles an alternation of every term
(``\\b(?:longest|...|shortest)\\b``) and, at every word of every page, tries the
~325 glossary terms one after another; that was the largest single step of
rendering a page. This subclass matches the same terms with a trie-shaped
pattern (each letter is tried once) compiled once per set of terms. The matches
are the same: at each place the longest term that ends at a word boundary wins.
"""

from __future__ import annotations

import functools
import re

from markdown.extensions import Extension
from markdown.extensions.abbr import AbbrTreeprocessor


@functools.lru_cache(maxsize=8)
def terms_pattern(terms: frozenset[str]) -> re.Pattern:
    """``\\b(?:term|...)\\b`` for ``terms``, as a trie: 'NMDA', 'NMDAR' -> ``\\bNMDA(?:R)?\\b``."""
    trie: dict = {}
    for term in terms:
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = {}  # a term ends here

    def branch(node: dict) -> str:
        options = [re.escape(ch) + branch(child) for ch, child in sorted(node.items()) if ch]
        if not options:
            return ""
        group = options[0] if len(options) == 1 and "" not in node else "(?:" + "|".join(options) + ")"
        return group + ("?" if "" in node else "")

    return re.compile(r"\b" + branch(trie) + r"\b")


class _Tooltips(AbbrTreeprocessor):
    def run(self, root):
        if self.abbrs:
            self.RE = terms_pattern(frozenset(self.abbrs))
            self.iter_element(root)


class FastAbbreviations(Extension):
    """Add to markdown_extensions after 'abbr': replaces its tree processor, same abbreviations."""

    def extendMarkdown(self, md):
        if "abbr" not in md.treeprocessors:
            raise ValueError("FastAbbreviations needs the 'abbr' extension")
        md.treeprocessors.register(_Tooltips(md, md.treeprocessors["abbr"].abbrs), "abbr", 7)
