"""Knowledge-base entries: field validation, answer sanitising, and CSV/XLSX import and export.

An import is all or nothing: a file with any bad row is refused whole, with every problem reported by row.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from typing import Any

CATEGORIES = ("尺码", "物流", "退换货", "发票", "活动", "支付", "账户", "商品", "售后", "订单", "其他")
MAX_QUESTION = 200
MAX_SIMILAR = 30
MAX_ANSWER = 5000
MAX_TAGS = 10
MAX_TAG = 30
MAX_ROWS = 5000
COLUMNS = ("entry_id", "question", "similar", "answer", "category", "tags", "enabled")

_REQUIRED_COLUMNS = ("question", "answer", "category")
_ENTRY_ID = re.compile(r"kb-[A-Za-z0-9-]{1,40}")
# What XML, and so XLSX, cannot hold.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ITEM_SEPARATOR = re.compile(r"[\r\n|]")
# A cell a spreadsheet would run as a formula, also behind our own guard apostrophes so the guard round-trips.
_FORMULA = re.compile(r"'*[=+\-@]")
_YES = {"", "是", "true", "1", "yes"}
_NO = {"否", "false", "0", "no"}
# Excel's own row limit: only a crafted file goes past it, and walking its empty rows would only burn time.
_MAX_SHEET_ROWS = 1_048_576
# openpyxl reads the shared strings whole even in read-only mode, so a zip bomb has to stop before it opens.
_MAX_XLSX_UNPACKED = 64 * 1024 * 1024
_SUMMARY_SHOWN = 5
# html.parser can take quadratic time on unclosed markup (CVE-2025-6069 and later reports), so the answer as written
# is capped before it is parsed; twice the stored limit leaves room for markup that gets dropped.
_MAX_ANSWER_SOURCE = 2 * MAX_ANSWER

_KEPT_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "a", "img"}
_VOID_TAGS = {"br", "img"}
_DROPPED_WITH_CONTENT = {"script", "style"}
_MARKUP = re.compile(r"<[A-Za-z/!?]")
# Browsers drop whitespace and controls inside URLs and read "\" as "/", which would smuggle in javascript: or //host.
_URL_TRICK = re.compile(r"[\x00-\x20\x7f\\]")
_WEB_URL = re.compile(r"https?://", re.IGNORECASE)


@dataclass(frozen=True)
class EntryFields:
    question: str
    similar: tuple[str, ...]
    answer: str
    category: str
    tags: tuple[str, ...]
    enabled: bool = True
    entry_id: str | None = None


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based spreadsheet row, the header being row 1; 0 for the file as a whole
    field: str
    message: str


class InvalidEntry(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("Invalid entry: " + "; ".join(f"{error.field}: {error.message}" for error in errors))
        self.errors = errors


class ImportRejected(ValueError):
    def __init__(self, errors: list[RowError]) -> None:
        shown = [
            f"Row {error.row}, {error.field}: {error.message}" if error.row else error.message
            for error in errors[:_SUMMARY_SHOWN]
        ]
        if len(errors) > _SUMMARY_SHOWN:
            shown.append(f"And {len(errors) - _SUMMARY_SHOWN} more.")
        super().__init__(f"Nothing was imported; {len(errors)} problem(s) found. " + " ".join(shown))
        self.errors = errors


# --- validation ---------------------------------------------------------------------------------------------------


def validate_entry(data: Mapping[str, Any]) -> EntryFields:
    """Clean one entry, or raise InvalidEntry listing every bad field."""
    errors: list[FieldError] = []
    question = _text(data.get("question"), "question", "The question", MAX_QUESTION, errors)
    entry = EntryFields(
        question=question,
        similar=_items(data.get("similar"), "similar", "Similar question", MAX_QUESTION, MAX_SIMILAR, errors, question),
        answer=_answer(data.get("answer"), errors),
        category=_category(data.get("category"), errors),
        tags=_items(data.get("tags"), "tags", "Tag", MAX_TAG, MAX_TAGS, errors),
        enabled=_enabled(data.get("enabled"), errors),
        entry_id=_entry_id(data.get("entry_id"), errors),
    )
    if errors:
        raise InvalidEntry(errors)
    return entry


def _one_line(value: str) -> str:
    """Questions and tags are single lines: controls go, whitespace runs become one space."""
    return " ".join(_CONTROL.sub("", value).split())


def _text(value: Any, field: str, label: str, limit: int, errors: list[FieldError]) -> str:
    if value is not None and not isinstance(value, str):
        errors.append(FieldError(field, f"{label} must be text."))
        return ""
    text = _one_line(value or "")
    if not text:
        errors.append(FieldError(field, f"{label} is required."))
    elif len(text) > limit:
        errors.append(FieldError(field, f"{label} is longer than {limit} characters."))
    return text


def _items(
    value: Any, field: str, label: str, limit: int, most: int, errors: list[FieldError], drop: str = ""
) -> tuple[str, ...]:
    """A de-duplicated list of one-line texts, without `drop` (a similar question that repeats the question)."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        errors.append(FieldError(field, f"{label}s must be a list of texts."))
        return ()
    items = []
    for number, item in enumerate(value, start=1):
        text = _text(item, field, f"{label} {number}", limit, errors)
        if "|" in text:
            errors.append(FieldError(field, f"{label} {number} contains '|', which separates items in import files."))
        items.append(text)
    kept = tuple(item for item in dict.fromkeys(items) if item != drop)
    if len(kept) > most:
        errors.append(FieldError(field, f"At most {most} {label.lower()}s are allowed; there are {len(kept)}."))
    return kept


def _answer(value: Any, errors: list[FieldError]) -> str:
    if value is not None and not isinstance(value, str):
        errors.append(FieldError("answer", "The answer must be text."))
        return ""
    source = value or ""
    if len(source) > _MAX_ANSWER_SOURCE:
        errors.append(FieldError("answer", f"The answer is longer than {_MAX_ANSWER_SOURCE} characters as written."))
        return ""
    answer, visible = _sanitize(source)
    if not visible:
        reason = "has no text once unsafe markup is removed" if source.strip() else "is required"
        errors.append(FieldError("answer", f"The answer {reason}."))
    elif len(answer) > MAX_ANSWER:
        errors.append(FieldError("answer", f"The answer is longer than {MAX_ANSWER} characters (counting markup)."))
    return answer


def _category(value: Any, errors: list[FieldError]) -> str:
    category = value.strip() if isinstance(value, str) else ""
    if category not in CATEGORIES:
        problem = f"Unknown category '{category}'" if category else "The category is required"
        errors.append(FieldError("category", f"{problem}; use one of {', '.join(CATEGORIES)}."))
    return category


def _enabled(value: Any, errors: list[FieldError]) -> bool:
    if value is None:
        return True
    if not isinstance(value, bool):
        errors.append(FieldError("enabled", "Enabled must be true or false."))
        return True
    return value


def _entry_id(value: Any, errors: list[FieldError]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _ENTRY_ID.fullmatch(value):
        errors.append(FieldError("entry_id", "An entry id looks like kb- and then 1 to 40 letters, digits or '-'."))
        return None
    return value


# --- answer sanitising --------------------------------------------------------------------------------------------


def sanitize_answer(html: str) -> str:
    """Keep an allow-listed HTML subset; plain text keeps its line breaks. Sanitising twice changes nothing."""
    return _sanitize(html)[0]


def _sanitize(html: str) -> tuple[str, bool]:
    """The safe markup, and whether a reader would see anything (text or an image)."""
    source = html.replace("\r\n", "\n").replace("\r", "\n").strip()
    sanitizer = _Sanitizer(plain=not _MARKUP.search(source))
    sanitizer.feed(source)
    sanitizer.close()
    return sanitizer.markup(), sanitizer.visible


class _Sanitizer(HTMLParser):
    def __init__(self, plain: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.visible = False
        self._plain = plain
        self._out: list[str] = []
        self._open: list[str] = []
        self._in_dropped = False

    def markup(self) -> str:
        """Tags left open are closed, so an answer cannot restyle the page around it."""
        return ("".join(self._out) + "".join(f"</{tag}>" for tag in reversed(self._open))).strip()

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        """Read <![...> as browsers do, a comment up to ">"; html.parser would raise on a malformed one."""
        return self.parse_bogus_comment(i, report)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self._in_dropped = True
            return
        if tag not in _KEPT_TAGS:
            return
        kept = _kept_attributes(tag, dict(attrs))
        if kept is None:
            return
        self._out.append(f"<{tag}{kept}>")
        if tag == "img":
            self.visible = True
        if tag not in _VOID_TAGS:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self._in_dropped = False
        elif tag in self._open:
            while (closed := self._open.pop()) != tag:
                self._out.append(f"</{closed}>")
            self._out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._in_dropped:
            return
        text = _CONTROL.sub("", data)
        self.visible = self.visible or bool(text.strip())
        # In markup a newline renders as a space; writing it as one keeps the output free of newlines, so a second
        # pass cannot mistake tag-less output for plain text.
        self._out.append(escape(text, quote=False).replace("\n", "<br>" if self._plain else " "))


def _kept_attributes(tag: str, attrs: Mapping[str, str | None]) -> str | None:
    """The attributes kept, as markup; None drops the tag (a link or image without a safe address)."""
    if tag == "a":
        href = _safe_url(attrs.get("href"))
        return None if href is None else f' href="{escape(href)}" rel="noopener noreferrer" target="_blank"'
    if tag == "img":
        src = _safe_url(attrs.get("src"))
        alt = attrs.get("alt")
        return None if src is None else f' src="{escape(src)}"' + ("" if alt is None else f' alt="{escape(alt)}"')
    return ""


def _safe_url(url: str | None) -> str | None:
    """http(s) or a path on this site; never javascript:, data: or a protocol-relative //host."""
    url = (url or "").strip()
    if _URL_TRICK.search(url):
        return None
    if _WEB_URL.match(url) or (url.startswith("/") and not url.startswith("//")):
        return url
    return None


# --- import -------------------------------------------------------------------------------------------------------


def parse_file(filename: str, data: bytes) -> list[EntryFields]:
    suffix = os.path.splitext(filename)[1].lower()
    if suffix == ".csv":
        return parse_csv(data)
    if suffix == ".xlsx":
        return parse_xlsx(data)
    raise _file_error("Only .csv and .xlsx files can be imported.")


def parse_csv(data: bytes) -> list[EntryFields]:
    text = _decode(data)
    try:
        rows = _collect(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise _file_error(f"The CSV file cannot be read ({error}).") from error
    return _entries(rows)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030, which Excel in China writes."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_error("The file is neither UTF-8 nor GB18030 text; save it as 'CSV UTF-8'.")


def parse_xlsx(data: bytes) -> list[EntryFields]:
    import zipfile  # XLSX only: lazy imports keep every other caller's cold start lean

    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(part.file_size for part in archive.infolist()) > _MAX_XLSX_UNPACKED:
                raise _file_error(f"The workbook unpacks to more than {_MAX_XLSX_UNPACKED // 2**20} MB.")
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # the stored dimensions may be wrong, which would cut rows off silently
            rows = _collect(sheet.iter_rows(values_only=True))
        finally:
            workbook.close()
    except ImportRejected:
        raise
    except Exception as error:  # a malformed file fails in zipfile or openpyxl with many exception types
        raise _file_error("The file is not a readable .xlsx workbook.") from error
    return _entries(rows)


def _file_error(message: str) -> ImportRejected:
    return ImportRejected([RowError(0, "file", message)])


def _collect(rows: Iterable[Sequence[Any]]) -> list[tuple[int, list[str]]]:
    """The non-blank rows as text with their spreadsheet numbers; stops as soon as the file is too long."""
    kept: list[tuple[int, list[str]]] = []
    for number, row in enumerate(rows, start=1):
        if number > _MAX_SHEET_ROWS:
            raise _file_error(f"The file has more than {_MAX_SHEET_ROWS} rows.")
        cells = ["" if value is None else _unguard(str(value)) for value in row]  # XLSX cells come typed
        if any(cell.strip() for cell in cells):
            kept.append((number, cells))
            if len(kept) > MAX_ROWS + 1:  # the header and MAX_ROWS entries
                raise _file_error(f"The file has more than {MAX_ROWS} entries; split it into smaller files.")
    return kept


def _unguard(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell[1:]) else cell


def _entries(rows: list[tuple[int, list[str]]]) -> list[EntryFields]:
    if not rows:
        raise _file_error("The file is empty.")
    (header_row, header), *body = rows
    columns = _columns(header_row, header)
    if not body:
        raise _file_error("The file has a header but no entries below it.")
    entries: list[EntryFields] = []
    errors: list[RowError] = []
    first_rows: dict[tuple[str, str], int] = {}  # (column, value) → the row it first appeared in
    for number, cells in body:
        values = dict.fromkeys(COLUMNS, "") | dict(zip(columns, cells, strict=False))
        if any(cell.strip() for cell in cells[len(columns) :]):
            errors.append(RowError(number, "row", "This row has values to the right of the last named column."))
        for column, value in (("question", _one_line(values["question"])), ("entry_id", values["entry_id"].strip())):
            first = first_rows.setdefault((column, value), number)
            if value and first != number:
                errors.append(RowError(number, column, f"The same {column} is already in row {first}."))
        try:
            entries.append(_row_entry(values))
        except InvalidEntry as invalid:
            errors.extend(RowError(number, error.field, error.message) for error in invalid.errors)
    if errors:
        raise ImportRejected(errors)
    return entries


def _columns(number: int, header: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in header]
    while not names[-1]:
        names.pop()
    errors = []
    for index, name in enumerate(names):
        if not name:
            errors.append(RowError(number, f"column {index + 1}", "This column has no name."))
        elif name not in COLUMNS:
            errors.append(RowError(number, name, f"Unknown column; the columns are {', '.join(COLUMNS)}."))
        elif name in names[:index]:
            errors.append(RowError(number, name, "This column appears twice."))
    errors.extend(
        RowError(number, name, "This required column is missing.") for name in _REQUIRED_COLUMNS if name not in names
    )
    if errors:
        raise ImportRejected(errors)
    return names


def _row_entry(values: Mapping[str, str]) -> EntryFields:
    """Cells are text; turn them into validate_entry's types, reporting a bad enabled cell with the rest."""
    enabled = values["enabled"].strip().lower()
    bad_enabled = [] if enabled in _YES | _NO else [FieldError("enabled", "Write 是/否, true/false, yes/no or 1/0.")]
    try:
        entry = validate_entry(
            {
                "entry_id": values["entry_id"].strip() or None,
                "question": values["question"],
                "similar": _split(values["similar"]),
                "answer": values["answer"],
                "category": values["category"],
                "tags": _split(values["tags"]),
                "enabled": enabled not in _NO,
            }
        )
    except InvalidEntry as invalid:
        raise InvalidEntry(invalid.errors + bad_enabled) from None
    if bad_enabled:
        raise InvalidEntry(bad_enabled)
    return entry


def _split(cell: str) -> list[str]:
    return [item for item in _ITEM_SEPARATOR.split(cell) if item.strip()]


# --- export -------------------------------------------------------------------------------------------------------


def to_csv(entries: Iterable[Mapping[str, Any]]) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese text right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(_export_row(entry) for entry in entries)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(entries: Iterable[Mapping[str, Any]]) -> bytes:
    from openpyxl import Workbook  # XLSX only: lazy imports keep every other caller's cold start lean
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for entry in entries:
        sheet.append(_export_row(entry))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _export_row(entry: Mapping[str, Any]) -> list[str]:
    cells = {
        "entry_id": entry.get("entry_id") or "",
        "question": entry.get("question") or "",
        "similar": "\n".join(entry.get("similar") or ()),
        "answer": entry.get("answer") or "",
        "category": entry.get("category") or "",
        "tags": "\n".join(entry.get("tags") or ()),
        "enabled": "否" if entry.get("enabled") is False else "是",
    }
    return [_guard(_CONTROL.sub("", str(cells[column]))) for column in COLUMNS]


def _guard(cell: str) -> str:
    """A leading apostrophe stops a spreadsheet from running the cell as a formula (CSV injection)."""
    return "'" + cell if _FORMULA.match(cell) else cell
