"""Read all abbreviation definitions of a block in one pass.

Why: the abbreviations file is appended to every page (pymdownx.snippets), and
Python-Markdown's own abbr block processor takes one definition per pass and
puts the rest of the block back, so every page re-scanned hundreds of lines
hundreds of times. This processor, registered just above it, consumes a whole
block of definitions at once; the abbr extension still renders the tooltips.
"""

from __future__ import annotations

import re

from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension

_DEFINITION = re.compile(r"^\*\[(?P<abbr>[^\\\]]+?)\][ ]?:[ ]*(?P<title>\S.*)$")


class AbbrBlockReader(BlockProcessor):
    def __init__(self, parser, abbr_extension):
        super().__init__(parser)
        self.abbr_extension = abbr_extension

    def test(self, parent, block: str) -> bool:
        return block.startswith("*[")

    def run(self, parent, blocks: list[str]) -> bool:
        lines = blocks[0].split("\n")
        matches = [_DEFINITION.match(line) for line in lines]
        if not all(matches):
            return False  # not purely definitions: leave it to the standard processor
        blocks.pop(0)
        for m in matches:
            self.abbr_extension.abbrs[m.group("abbr").strip()] = m.group("title").strip()
        return True


class FastAbbreviations(Extension):
    """Add to markdown_extensions after 'abbr'."""

    def extendMarkdown(self, md):
        abbr = next((ext for ext in md.registeredExtensions if type(ext).__name__ == "AbbrExtension"), None)
        if abbr is None:
            raise ValueError("FastAbbreviations needs the 'abbr' extension")
        md.parser.blockprocessors.register(AbbrBlockReader(md.parser, abbr), "abbr-block", 100.5)
