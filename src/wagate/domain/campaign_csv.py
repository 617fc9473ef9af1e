"""A campaign's recipient list as people export it from Excel, 1C or a CRM: which encoding,
which delimiter, which column is what. Pure functions over bytes and lines (the caller owns
the file), so every rule is testable without a request.

Encodings (``detect_encoding``): a byte-order mark decides (UTF-8, UTF-16 — Excel's
"Unicode text"); otherwise the whole file is checked as UTF-8 and, failing that, read as
Windows-1251 (what Russian Excel writes for "CSV"). No guessing between single-byte code
pages: only those two are promised, and Windows-1251 maps nearly every byte.

Columns (``map_columns``), decided once per file:

* The first row is a header when one of its cells names the phone column (``phone``,
  ``телефон``, ``номер``, ``to``, ``msisdn`` …; case and spaces ignored). ``name``/``имя``/
  ``фио`` is the recipient's name (optional). Template parameter *n* comes from the column
  headed ``param{n}``, ``p{n}``, ``{{n}}``, ``параметр{n}`` or just ``{n}``; when no column is
  named so, the remaining columns are the parameters **in order** (and there must be exactly
  as many as the template takes, so a stray ``email`` column is an error, not a parameter).
* Without such a header the file is read by position: phone, then name if the row is one
  cell wider than phone + parameters, then the parameters.

Delimiter: an Excel ``sep=;`` first line wins; otherwise the candidate (``,`` ``;`` tab ``|``)
that splits the header into a recognised phone column, then ``csv.Sniffer``, then ``,``.
Line numbers are the file's own (the header is line 1), so they match a spreadsheet's rows.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from wagate.errors import ValidationError

DELIMITERS = (",", ";", "\t", "|")
PHONE_HEADERS = frozenset(
    {
        "phone",
        "phone_number",
        "phonenumber",
        "phone number",
        "number",
        "to",
        "msisdn",
        "mobile",
        "tel",
        "telephone",
        "whatsapp",
        "телефон",
        "тел",
        "номер",
        "номер телефона",
        "мобильный",
    }
)
NAME_HEADERS = frozenset(
    {"name", "full_name", "fullname", "full name", "client", "customer", "имя", "фио", "клиент", "получатель"}
)
_PARAM_HEADER = re.compile(r"^(?:(?:param|parameter|p|параметр|var)\s*[_#-]?\s*(\d+)|\{\{\s*(\d+)\s*\}\}|(\d+))$")
_PHONE_LIKE = re.compile(r"^\+?[\d\s()\-.]{8,24}$")
MAX_CELL = 2048


def _norm_header(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").strip().strip("\"'").lower().split())


# ---------------------------------------------------------------- encoding


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark announces, or ``None``."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def detect_encoding(chunks: Iterable[bytes]) -> str:
    """``utf-8-sig``, ``utf-16``, ``utf-8`` or ``windows-1251`` for a file given as byte chunks.

    The UTF-8 check reads every chunk through an incremental decoder: a file can be valid
    UTF-8 for a megabyte and have one Windows-1251 name at the end.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    first = True
    try:
        for chunk in chunks:
            if first:
                first = False
                announced = bom_encoding(chunk[:4])
                if announced is not None:
                    return announced
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "windows-1251"
    return "utf-8"


# ---------------------------------------------------------------- delimiter and columns


@dataclass(frozen=True, slots=True)
class Layout:
    """How to read the file: delimiter, whether line 1 is a header, and where each value is."""

    delimiter: str
    header: bool
    phone: int
    name: int | None
    params: tuple[int, ...]
    #: The header cells (or ``column N`` names for a headerless file), for the report.
    columns: tuple[str, ...]
    #: A leading ``sep=;`` line to skip.
    skip_sep_line: bool = False

    def describe(self) -> dict[str, object]:
        return {
            "delimiter": self.delimiter,
            "header": self.header,
            "phone": self.columns[self.phone],
            "name": self.columns[self.name] if self.name is not None else None,
            "params": [self.columns[i] for i in self.params],
        }


def _cells(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _sep_line(line: str) -> str | None:
    match = re.fullmatch(r"\s*sep=(.)\s*", line.replace("\ufeff", ""))
    return match.group(1) if match else None


def choose_delimiter(first_line: str, sample: str) -> str:
    """The delimiter of a file whose first non-empty line is ``first_line`` (see the module docstring)."""
    split = {d: _cells(first_line, d) for d in DELIMITERS}
    qualifying = [(len(cells), d) for d, cells in split.items() if any(_norm_header(c) in PHONE_HEADERS for c in cells)]
    if qualifying:
        return max(qualifying, key=lambda item: item[0])[1]
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        widest = max(DELIMITERS, key=lambda d: len(_cells(first_line, d)))
        return widest if len(_cells(first_line, widest)) > 1 else ","


def _param_number(header: str) -> int | None:
    match = _PARAM_HEADER.match(header)
    if match is None:
        return None
    return int(next(g for g in match.groups() if g is not None))


def map_columns(first_line: str, sample: str, param_count: int) -> Layout:
    """Decide the layout from the first line (and a sample for the delimiter), or raise
    ``ValidationError(field="file")`` saying what to change in the file."""
    skip = False
    forced = _sep_line(first_line)
    if forced is not None:
        skip = True
        delimiter = forced
        rest = sample.split("\n", 1)[1] if "\n" in sample else ""
        first_line = next((line for line in rest.splitlines() if line.strip()), "")
    else:
        delimiter = choose_delimiter(first_line, sample)
    cells = _cells(first_line, delimiter)
    headers = [_norm_header(c) for c in cells]
    phone = next((i for i, h in enumerate(headers) if h in PHONE_HEADERS), None)
    if phone is None:
        return _positional(cells, delimiter, param_count, skip)
    name = next((i for i, h in enumerate(headers) if h in NAME_HEADERS and i != phone), None)
    numbered: dict[int, int] = {}
    for index, header in enumerate(headers):
        number = _param_number(header)
        if number is not None and index not in (phone, name):
            if number in numbered:
                raise ValidationError(f"two columns are parameter {{{{{number}}}}}", field="file", code="csv_columns")
            numbered[number] = index
    columns = tuple(c.replace("\ufeff", "").strip() for c in cells)
    if numbered:
        wanted = list(range(1, param_count + 1))
        missing = [n for n in wanted if n not in numbered]
        extra = sorted(n for n in numbered if n > param_count)
        if missing or extra:
            problem = (
                f"no column for parameter {{{{{missing[0]}}}}}" if missing else f"column param{extra[0]} is too many"
            )
            raise ValidationError(
                f"the template takes {param_count} parameter(s): {problem}", field="file", code="csv_columns"
            )
        params = tuple(numbered[n] for n in wanted)
    else:
        others = tuple(i for i in range(len(cells)) if i not in (phone, name))
        if len(others) != param_count:
            listed = ", ".join(columns[i] or f"column {i + 1}" for i in others) or "none"
            raise ValidationError(
                f"the template takes {param_count} parameter(s) but the file has {len(others)} other column(s) "
                f"({listed}); head the parameter columns param1…param{max(param_count, 1)} to choose them",
                field="file",
                code="csv_columns",
            )
        params = others
    return Layout(delimiter, True, phone, name, params, columns, skip)


def _positional(cells: list[str], delimiter: str, param_count: int, skip: bool) -> Layout:
    if not cells or not _PHONE_LIKE.match(cells[0].replace("\ufeff", "").strip()):
        raise ValidationError(
            "no phone column: head it 'phone' (or 'телефон'), or put the phone number first in a file without a header",
            field="file",
            code="csv_columns",
        )
    width = len(cells)
    columns = tuple(f"column {i + 1}" for i in range(width))
    if width == param_count + 2:
        return Layout(delimiter, False, 0, 1, tuple(range(2, width)), columns, skip)
    if width == param_count + 1:
        return Layout(delimiter, False, 0, None, tuple(range(1, width)), columns, skip)
    raise ValidationError(
        f"a file without a header needs phone[, name] and {param_count} parameter column(s); the first row has {width}",
        field="file",
        code="csv_columns",
    )


# ---------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One recipient as the file has it, before any check."""

    line: int
    phone: str
    name: str | None
    params: list[str]


def read_rows(lines: Iterable[str], layout: Layout) -> Iterator[CsvRow]:
    """The file's data rows, with their first physical line number; blank rows are skipped.

    ``lines`` is the decoded text split with newlines kept (a file object opened with
    ``newline=""``), so quoted cells may span lines. A short row's missing cells are empty
    (and then fail the parameter check with their line number).
    """
    reader = csv.reader(lines, delimiter=layout.delimiter)
    consumed = 0
    skip_first = layout.skip_sep_line
    header_pending = layout.header
    for cells in reader:
        line = consumed + 1
        consumed = reader.line_num
        if skip_first:
            skip_first = False
            continue
        if not cells or all(not c.strip() for c in cells):
            continue
        if header_pending:
            header_pending = False
            continue

        def cell(index: int | None, row: list[str] = cells) -> str:
            if index is None or index >= len(row):
                return ""
            return row[index].strip()[:MAX_CELL]

        name = cell(layout.name)
        yield CsvRow(line, cell(layout.phone), name or None, [cell(i) for i in layout.params])
