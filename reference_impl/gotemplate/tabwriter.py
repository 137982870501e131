"""Go's text/tabwriter as docker configures and forks it (cell widths by terminal
display width): ``tabwrite`` and ``tabulate``."""
from __future__ import annotations

import unicodedata


def _rune_width(c: str) -> int:
    o = ord(c)
    if o == 0 or o < 0x20 or 0x7F <= o < 0xA0:
        return 0
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    if o in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF):
        return 0
    if unicodedata.east_asian_width(c) in ("W", "F"):
        return 2
    return 1


def _text_width(s: str) -> int:
    return sum(_rune_width(c) for c in s)


class _TabWriter:
    """Go's text/tabwriter.Writer (left alignment, space/other padchar, no
    flags), as forked by docker (cell widths by terminal display width)."""

    def __init__(self, minwidth: int, tabwidth: int, padding: int, padchar: str):
        self.minwidth, self.tabwidth, self.padding, self.padchar = minwidth, tabwidth, padding, padchar
        self.out: list[str] = []
        self._reset()

    def _reset(self):
        self.cell: list[str] = []  # text of the current cell
        self.lines: list[list[tuple[str, int, bool]]] = [[]]
        self.widths: list[int] = []

    def _terminate_cell(self, htab: bool) -> int:
        text = "".join(self.cell)
        self.lines[-1].append((text, _text_width(text), htab))
        self.cell = []
        return len(self.lines[-1])

    def write(self, text: str):
        for ch in text:
            if ch in "\t\v\n\f":
                ncells = self._terminate_cell(ch == "\t")
                if ch in "\n\f":
                    self.lines.append([])
                    if ch == "\f" or ncells == 1:
                        self.flush()
            else:
                self.cell.append(ch)

    def flush(self):
        if self.cell:
            self._terminate_cell(False)
        self._format(0, len(self.lines))
        self._reset()

    def _padding(self, textw: int, cellw: int):
        if self.padchar == "\t":
            if self.tabwidth == 0:
                return
            cellw = (cellw + self.tabwidth - 1) // self.tabwidth * self.tabwidth
            n = cellw - textw
            self.out.append("\t" * ((n + self.tabwidth - 1) // self.tabwidth))
            return
        self.out.append(self.padchar * (cellw - textw))

    def _write_lines(self, line0: int, line1: int):
        for i in range(line0, line1):
            line = self.lines[i]
            for j, (text, width, _htab) in enumerate(line):
                if text:
                    self.out.append(text)
                if j < len(self.widths):
                    self._padding(width, self.widths[j])
            if i + 1 == len(self.lines):
                self.out.append("".join(self.cell))
            else:
                self.out.append("\n")

    def _format(self, line0: int, line1: int):
        column = len(self.widths)
        this = line0
        while this < line1:
            line = self.lines[this]
            if column >= len(line) - 1:
                this += 1
                continue
            self._write_lines(line0, this)
            line0 = this
            width = self.minwidth
            while this < line1:
                line = self.lines[this]
                if column >= len(line) - 1:
                    break
                w = line[column][1] + self.padding
                if w > width:
                    width = w
                this += 1
            self.widths.append(width)
            self._format(line0, this)
            self.widths.pop()
            line0 = this
        self._write_lines(line0, line1)


def tabwrite(text: str, minwidth: int = 10, tabwidth: int = 1, padding: int = 3, padchar: str = " ") -> str:
    """Run ``text`` through Go's text/tabwriter (defaults: docker's
    ``NewWriter(out, 10, 1, 3, ' ', 0)``) and return the aligned text.

    Tab-terminated cells in consecutive lines form a column whose width is
    max(minwidth, widest cell + padding); the text after a line's last tab is
    not part of a column and is never padded.  A line without a tab ends the
    block of lines aligned together."""
    tw = _TabWriter(minwidth, tabwidth, padding, padchar)
    tw.write(text)
    tw.flush()
    return "".join(tw.out)


def tabulate(rows: list[list[str]], minwidth: int = 10, tabwidth: int = 1, padding: int = 3) -> str:
    """Align ``rows`` (header first, if any) the way docker's table output
    does: cells of a row are joined with tabs, every row ends with a newline,
    and the whole is passed through :func:`tabwrite`."""
    return tabwrite("".join("\t".join(r) + "\n" for r in rows), minwidth, tabwidth, padding)
