"""Test helper: the tables and elements of a rendered report, read back with the standard library's HTML parser."""
from html.parser import HTMLParser


class ReportParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[dict]]] = {}
        self.tags: dict[str, int] = {}
        self.attrs_seen: list[tuple[str, dict]] = []
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.attrs_seen.append((tag, a))
        if tag == "table":
            self._table = a.get("id", f"table{len(self.tables)}")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
            self.tables[self._table].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = dict(tag=tag, text="", col=a.get("data-col"), value=a.get("data-value"))
            self._row.append(self._cell)

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data

    def records(self, table_id: str) -> list[dict]:
        """The body rows as {column: cell}, using the header row's texts."""
        rows = self.tables[table_id]
        header = [c["text"] for c in rows[0]]
        return [dict(zip(header, r)) for r in rows[1:]]


def parse(html: str) -> ReportParser:
    p = ReportParser()
    p.feed(html)
    return p
