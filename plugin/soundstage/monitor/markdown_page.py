"""The small Markdown subset the analysis summary is written in, as HTML: ``#`` headings,
pipe tables (with a ``|---|`` rule under the header), paragraphs and ``**bold**``. Everything
else is escaped text, so the page never shows Markdown syntax and never runs off the page."""

from __future__ import annotations

import html
import re

__all__ = ["markdown_to_html"]

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", html.escape(text.strip()))


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def markdown_to_html(text: str) -> str:
    """HTML of ``text`` (see the module docstring for the subset)."""
    out, paragraph, lines, i = [], [], text.splitlines(), 0

    def close_paragraph():
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            close_paragraph()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif line.lstrip().startswith("|") and i + 1 < len(lines) and re.match(r"^\s*\|(\s*:?-+:?\s*\|)+\s*$", lines[i + 1]):
            close_paragraph()
            header = "".join(f"<th>{_inline(c)}</th>" for c in _cells(line))
            rows, i = [], i + 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in _cells(lines[i])) + "</tr>")
                i += 1
            out.append(f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
            continue
        elif not line.strip():
            close_paragraph()
        else:
            paragraph.append(line)
        i += 1
    close_paragraph()
    return "\n".join(out)
