"""Knowledge-base entries: validation, answer sanitising, and all-or-nothing CSV/XLSX import and export."""

import csv
import dataclasses
import io
import zipfile

import openpyxl
import pytest
from shopdesk.kb_files import (
    COLUMNS,
    MAX_ANSWER,
    MAX_QUESTION,
    MAX_ROWS,
    MAX_SIMILAR,
    MAX_TAG,
    MAX_TAGS,
    EntryFields,
    ImportRejected,
    InvalidEntry,
    RowError,
    parse_csv,
    parse_file,
    parse_xlsx,
    sanitize_answer,
    to_csv,
    to_xlsx,
    validate_entry,
)

pytestmark = pytest.mark.unit

HEADER = ["question", "answer", "category"]


def entry(**fields):
    return {"question": "怎么选尺码", "answer": "看尺码表", "category": "尺码"} | fields


def field_errors(data):
    with pytest.raises(InvalidEntry) as raised:
        validate_entry(data)
    return [(error.field, error.message) for error in raised.value.errors]


def csv_file(*rows, encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_file(*rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rejected(parse, *args):
    with pytest.raises(ImportRejected) as raised:
        parse(*args)
    return raised.value.errors


def places(errors):
    return [(error.row, error.field) for error in errors]


# --- validate_entry -----------------------------------------------------------------------------------------------


def test_an_entry_is_cleaned():
    # Given messy but valid fields
    data = {
        "question": "  怎么选   尺码 ",
        "similar": [" 尺码怎么选 ", "尺码怎么选", "怎么选 尺码", "码数不对"],
        "answer": "看\n尺码表",
        "category": "尺码",
        "tags": ["尺码", " 尺码 ", "新品"],
    }
    # When it is validated
    fields = validate_entry(data)
    # Then text is trimmed to one line, repeats and the question itself leave the similar list, defaults apply
    assert fields == EntryFields(
        question="怎么选 尺码",
        similar=("尺码怎么选", "码数不对"),
        answer="看<br>尺码表",
        category="尺码",
        tags=("尺码", "新品"),
        enabled=True,
        entry_id=None,
    )


def test_every_bad_field_is_reported_at_once():
    # Given an entry where every field is wrong
    data = {
        "question": " ",
        "similar": "not a list",
        "answer": "<script>alert(1)</script>",
        "category": "天气",
        "tags": ["x" * (MAX_TAG + 1)],
        "enabled": "yes",
        "entry_id": "faq-1",
    }
    # When it is validated
    errors = field_errors(data)
    # Then each field has its own readable error
    assert [field for field, _ in errors] == [
        "question",
        "similar",
        "answer",
        "category",
        "tags",
        "enabled",
        "entry_id",
    ]
    assert dict(errors)["answer"] == "The answer has no text once unsafe markup is removed."
    assert "Unknown category '天气'" in dict(errors)["category"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"question": "问" * (MAX_QUESTION + 1)}, "question"),
        ({"question": 42}, "question"),
        ({"similar": [f"相似 {n}" for n in range(MAX_SIMILAR + 1)]}, "similar"),
        ({"similar": ["问" * (MAX_QUESTION + 1)]}, "similar"),
        ({"similar": ["", "ok"]}, "similar"),
        ({"similar": ["a|b"]}, "similar"),
        ({"answer": ""}, "answer"),
        ({"answer": "答" * (MAX_ANSWER + 1)}, "answer"),
        ({"answer": "<b>答</b>" * (MAX_ANSWER // 2)}, "answer"),
        ({"category": ""}, "category"),
        ({"tags": [f"t{n}" for n in range(MAX_TAGS + 1)]}, "tags"),
        ({"tags": ["x" * (MAX_TAG + 1)]}, "tags"),
        ({"enabled": 1}, "enabled"),
        ({"entry_id": "kb-"}, "entry_id"),
        ({"entry_id": "kb-" + "a" * 41}, "entry_id"),
        ({"entry_id": "kb-a_b"}, "entry_id"),
        ({"entry_id": "kb-abc\n"}, "entry_id"),
    ],
)
def test_a_field_over_its_limit_is_refused(fields, field):
    # Given an otherwise valid entry with one bad field
    # When it is validated
    errors = field_errors(entry(**fields))
    # Then exactly that field is reported
    assert {name for name, _ in errors} == {field}


def test_an_answer_is_capped_as_written_before_it_is_parsed():
    # Given markup that would clean down to one character but is too long to parse safely
    answer = "<span></span>" * (2 * MAX_ANSWER // 13 + 1) + "答"
    # When it is validated
    # Then it is refused for its written length
    assert field_errors(entry(answer=answer)) == [
        ("answer", f"The answer is longer than {2 * MAX_ANSWER} characters as written.")
    ]


def test_an_image_alone_is_an_answer():
    # Given an answer that is only a size chart image
    # When it is validated
    fields = validate_entry(entry(answer='<img src="https://cdn.example/size.png">'))
    # Then it is kept
    assert fields.answer == '<img src="https://cdn.example/size.png">'


def test_fields_at_their_limits_pass():
    # Given every field at its maximum
    data = entry(
        question="问" * MAX_QUESTION,
        similar=[f"相似 {n}" for n in range(MAX_SIMILAR)],
        answer="答" * MAX_ANSWER,
        tags=[f"{n:0{MAX_TAG}d}" for n in range(MAX_TAGS)],
        enabled=False,
        entry_id="kb-" + "a" * 40,
    )
    # When it is validated
    fields = validate_entry(data)
    # Then it is kept as given
    assert (len(fields.similar), len(fields.tags), fields.enabled) == (MAX_SIMILAR, MAX_TAGS, False)


# --- sanitize_answer ----------------------------------------------------------------------------------------------


def test_scripts_and_styles_go_with_their_content():
    # Given an answer with a script and a style
    answer = "<p>退货<script>alert(document.cookie)</script><style>p{display:none}</style>流程</p>"
    # When it is sanitised
    # Then only the text around them is left
    assert sanitize_answer(answer) == "<p>退货流程</p>"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "&#106;avascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/x",
        "/\\evil.example/x",
        "vbscript:x",
        "mailto:a@b.c",
        "",
    ],
)
def test_a_link_without_a_safe_address_loses_its_tag_not_its_text(href):
    # Given a link to an unsafe address
    answer = f'<a href="{href}" onclick="steal()">点这里</a>'
    # When it is sanitised
    # Then the text stays and nothing of the link does
    assert sanitize_answer(answer) == "点这里"


def test_allowed_tags_are_kept_with_safe_attributes_only():
    # Given the whole allowed subset, with attributes that must not survive
    answer = (
        '<p class="x" style="color:red"><b>粗</b><strong>强</strong><i>斜</i><em>重</em><u>线</u><br/></p>'
        "<ul><li>一</li></ul><ol><li>二</li></ol>"
        '<a href="https://shop.example/size?a=1&amp;b=2" target="_self" rel="opener">尺码表</a>'
        '<img src="/static/size.png" alt="表" onerror="x()"><img src="HTTP://cdn.example/x.png">'
    )
    # When it is sanitised
    # Then tags stay; links open safely in a new tab; images keep only src and alt
    assert sanitize_answer(answer) == (
        "<p><b>粗</b><strong>强</strong><i>斜</i><em>重</em><u>线</u><br></p>"
        "<ul><li>一</li></ul><ol><li>二</li></ol>"
        '<a href="https://shop.example/size?a=1&amp;b=2" rel="noopener noreferrer" target="_blank">尺码表</a>'
        '<img src="/static/size.png" alt="表"><img src="HTTP://cdn.example/x.png">'
    )


def test_other_tags_are_dropped_but_their_text_stays_escaped():
    # Given tags outside the subset and text that looks like markup
    answer = '<div><span>满 200 &lt;减&gt; 20</span><iframe src="https://x">框</iframe><!-- note --></div>'
    # When it is sanitised
    # Then the text is kept and escaped
    assert sanitize_answer(answer) == "满 200 &lt;减&gt; 20框"


def test_plain_text_keeps_its_line_breaks():
    # Given plain text with Windows and Unix line breaks and a special character
    answer = "第一步：申请\r\n第二步：寄回 & 等待\n\n完成"
    # When it is sanitised
    # Then the line breaks become <br> and the text is escaped
    assert sanitize_answer(answer) == "第一步：申请<br>第二步：寄回 &amp; 等待<br><br>完成"


def test_unbalanced_markup_is_closed():
    # Given tags left open and a stray closing tag
    answer = "</li><b>粗<i>斜</b>后<ul><li>项"
    # When it is sanitised
    # Then the output is balanced, so it cannot restyle the page around it
    assert sanitize_answer(answer) == "<b>粗<i>斜</i></b>后<ul><li>项</li></ul>"


@pytest.mark.parametrize(
    "answer",
    [
        "<p>a\nb</p>",
        "a < b & c\nd",
        "<a href='/x?a=1&b=\"2\"'>x</a>",
        "<b>unclosed",
        "<![ x ]>hi",
        "<![CDATA[<script>alert(1)</script>]]>",
        "<img src=/x.png alt='\"<>'>",
        "<script>x</script>a\nb",
    ],
)
def test_sanitising_twice_changes_nothing(answer):
    # Given an answer sanitised once (as stored, and as exported)
    once = sanitize_answer(answer)
    # When it is sanitised again (as on re-import)
    # Then it is unchanged, so exports round-trip
    assert sanitize_answer(once) == once
    assert "<script" not in once


# --- CSV import ---------------------------------------------------------------------------------------------------


def test_a_good_csv_gives_its_entries():
    # Given columns in any order, lists split by newline or |, and every spelling of enabled
    data = csv_file(
        ["Category", "question", "answer", "similar", "tags", "enabled", "entry_id"],
        ["物流", "多久发货", "48 小时内", "几天发货\n什么时候发", "发货|时效", "否", "kb-ship-1"],
        ["发票", "能开发票吗", "<p>能</p>", "", "", "", ""],
        ["支付", "能用花呗吗", "能", "", "", "TRUE", ""],
        ["支付", "能货到付款吗", "不能", "", "", "no", ""],
    )
    # When it is parsed
    entries = parse_csv(data)
    # Then every row becomes an entry, in order
    assert entries[0] == EntryFields(
        question="多久发货",
        similar=("几天发货", "什么时候发"),
        answer="48 小时内",
        category="物流",
        tags=("发货", "时效"),
        enabled=False,
        entry_id="kb-ship-1",
    )
    assert [e.enabled for e in entries] == [False, True, True, False]
    assert entries[1].entry_id is None


def test_every_bad_row_is_reported_with_its_spreadsheet_row_number():
    # Given good rows around bad ones, a blank row, and a quoted cell spanning two lines
    data = csv_file(
        [*HEADER, "enabled", "entry_id"],
        ["好问题", "答案", "物流", "", ""],  # row 2
        ["", "答案", "物流", "", ""],  # row 3: no question
        ["问题三", "答案", "天气", "maybe", ""],  # row 4: two bad cells
        [],  # row 5: blank, skipped but counted
        ["问题五", "多行\n答案", "物流", "", "bad id"],  # row 6
        ["问" * (MAX_QUESTION + 1), "<script>x</script>", "物流", "", ""],  # row 7
        ["问题七", "答案", "物流", "", "", "stray"],  # row 8: value with no column
    )
    # When it is parsed
    errors = rejected(parse_csv, data)
    # Then nothing is imported and each problem names its row and field
    assert places(errors) == [
        (3, "question"),
        (4, "category"),
        (4, "enabled"),
        (6, "entry_id"),
        (7, "question"),
        (7, "answer"),
        (8, "row"),
    ]


def test_repeated_questions_and_ids_flag_the_later_row():
    # Given a question and an id that each appear twice
    data = csv_file(
        [*HEADER, "entry_id"],
        ["多久发货", "a", "物流", "kb-1"],
        ["退货运费谁出", "b", "退换货", "kb-2"],
        [" 多久发货 ", "c", "物流", "kb-1"],
    )
    # When it is parsed
    errors = rejected(parse_csv, data)
    # Then the second occurrences are the errors, pointing back at the first
    assert errors == [
        RowError(4, "question", "The same question is already in row 2."),
        RowError(4, "entry_id", "The same entry_id is already in row 2."),
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["question", "answer", "category", "price"], [(1, "price")]),
        (["question", "answer"], [(1, "category")]),
        (["question", "answer", "category", "Question"], [(1, "question")]),
        (["question", "", "answer", "category"], [(1, "column 2")]),
    ],
)
def test_a_bad_header_is_reported_on_row_one(header, expected):
    # Given a header with an unknown, missing, repeated or nameless column
    data = csv_file(header, ["多久发货", "48 小时", "物流", ""])
    # When it is parsed
    # Then the header problem is reported
    assert places(rejected(parse_csv, data)) == expected


def test_trailing_empty_header_cells_are_ignored():
    # Given a header with trailing empty cells, as spreadsheets often save
    data = csv_file([*HEADER, "", ""], ["多久发货", "48 小时", "物流", "", ""])
    # When it is parsed
    # Then the row is read
    assert [e.question for e in parse_csv(data)] == ["多久发货"]


def test_gb18030_csv_is_read():
    # Given a CSV saved by Excel in China, in GB18030
    data = csv_file(HEADER, ["多久发货", "48 小时内发货", "物流"], encoding="gb18030")
    # When it is parsed
    entries = parse_csv(data)
    # Then the Chinese text is intact
    assert (entries[0].question, entries[0].answer) == ("多久发货", "48 小时内发货")


def test_a_bom_does_not_hide_the_first_column():
    # Given a UTF-8 CSV with a BOM whose first column is required
    data = csv_file(HEADER, ["多久发货", "48 小时", "物流"], encoding="utf-8-sig")
    # When it is parsed
    # Then the first column is recognised
    assert parse_csv(data)[0].question == "多久发货"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n,,\r\n", "The file is empty."),
        (b"question,answer,category\r\n", "The file has a header but no entries below it."),
        (b"\xff\xfe\x80", "The file is neither UTF-8 nor GB18030 text; save it as 'CSV UTF-8'."),
    ],
)
def test_a_file_without_entries_is_refused(data, message):
    # Given a file with nothing to import
    # When it is parsed
    # Then the whole file is refused with row 0
    assert rejected(parse_csv, data) == [RowError(0, "file", message)]


def test_at_most_max_rows_entries_are_read():
    # Given a file with MAX_ROWS entries, and one with a single entry more
    rows = [[f"问题 {n}", "答案", "其他"] for n in range(MAX_ROWS + 1)]
    # When each is parsed
    # Then the first is read whole and the second is refused
    assert len(parse_csv(csv_file(HEADER, *rows[:MAX_ROWS]))) == MAX_ROWS
    assert rejected(parse_csv, csv_file(HEADER, *rows)) == [
        RowError(0, "file", f"The file has more than {MAX_ROWS} entries; split it into smaller files.")
    ]


def test_an_unreadable_csv_is_refused_not_raised():
    # Given a cell larger than the csv module will read
    data = csv_file(HEADER, ["问题", "答" * 200_000, "其他"])
    # When it is parsed
    # Then it is a file error
    assert places(rejected(parse_csv, data)) == [(0, "file")]


# --- export and round trips ---------------------------------------------------------------------------------------

ENTRIES = [
    validate_entry(
        entry(
            similar=["尺码怎么看", "码数"],
            answer='<p>见<a href="https://shop.example/size">尺码表</a></p><img src="/s.png" alt="表">',
            tags=["尺码", "新品"],
            entry_id="kb-size-1",
        )
    ),
    validate_entry(entry(question='=HYPERLINK("http://evil")', answer="第一行\n第二行", enabled=False)),
    validate_entry(entry(question="'=已转义", similar=["+86 电话", "-5 度", "@客服"], category="其他")),
]


def test_csv_round_trip_gives_the_same_entries():
    # Given validated entries, some starting with formula characters
    # When they are exported and imported again
    # Then the entries come back unchanged
    assert parse_csv(to_csv(dataclasses.asdict(e) for e in ENTRIES)) == ENTRIES


def test_xlsx_round_trip_gives_the_same_entries():
    # Given the same entries
    # When they go through XLSX
    # Then they come back unchanged
    assert parse_xlsx(to_xlsx(dataclasses.asdict(e) for e in ENTRIES)) == ENTRIES


def test_csv_export_is_excel_friendly_and_injection_safe():
    # Given entries whose cells start with = + - @
    # When they are exported to CSV
    data = to_csv(dataclasses.asdict(e) for e in ENTRIES)
    # Then the file has a BOM and the header, and no cell starts with a formula character
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(COLUMNS)
    assert rows[2][1] == '\'=HYPERLINK("http://evil")'
    assert rows[3][1] == "''=已转义"
    assert rows[3][2] == "'+86 电话\n-5 度\n@客服"
    assert [row[6] for row in rows[1:]] == ["是", "否", "是"]
    assert not any(cell[:1] in "=+-@" for row in rows for cell in row if cell)


def test_xlsx_export_has_a_bold_header_and_no_formulas():
    # Given the same entries
    # When they are exported to XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(dataclasses.asdict(e) for e in ENTRIES))).active
    # Then the header is bold and formula-like text is stored as text
    assert [cell.value for cell in sheet[1]] == list(COLUMNS)
    assert all(cell.font.b for cell in sheet[1])
    assert sheet["B3"].value == '\'=HYPERLINK("http://evil")'
    assert "f" not in {cell.data_type for row in sheet.iter_rows() for cell in row}


def test_export_strips_characters_xml_cannot_hold():
    # Given an entry with a control character (stored before validation cleaned them)
    raw = {"question": "问\x01题", "answer": "答", "category": "其他"}
    # When it is exported to XLSX and read back
    # Then the export succeeds without the character
    assert parse_xlsx(to_xlsx([raw]))[0].question == "问题"


# --- XLSX import --------------------------------------------------------------------------------------------------


def test_typed_xlsx_cells_are_read_as_text():
    # Given a sheet where Excel typed the cells: a number question, a boolean and a numeric enabled
    data = xlsx_file([*HEADER, "enabled"], [2024, "年份", "其他", False], ["12.5", "小数", "其他", 1.0])
    # When it is parsed
    entries = parse_xlsx(data)
    # Then the values read as their text
    assert [(e.question, e.enabled) for e in entries] == [("2024", False), ("12.5", True)]


def test_xlsx_row_errors_carry_sheet_row_numbers():
    # Given a sheet with an empty row 3 and a bad row 4
    data = xlsx_file(HEADER, ["多久发货", "48 小时", "物流"], [], ["发票", "能", "开票"])
    # When it is parsed
    # Then the error is on row 4
    assert places(rejected(parse_xlsx, data)) == [(4, "category")]


def rewritten_sheet(data, old, new):
    """The workbook with its first sheet's XML edited, to stand in for files other generators write."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            part = source.read(name)
            target.writestr(name, part.replace(old, new) if name == "xl/worksheets/sheet1.xml" else part)
    assert new in zipfile.ZipFile(buffer).read("xl/worksheets/sheet1.xml")
    return buffer.getvalue()


def test_a_sheet_claiming_rows_past_excels_limit_is_refused_quickly():
    # Given a crafted sheet whose second row claims a number past Excel's last row
    data = rewritten_sheet(xlsx_file(HEADER, ["多久发货", "48 小时", "物流"]), b'<row r="2"', b'<row r="1048578"')
    # When it is parsed
    # Then it is refused without walking the gap to the end
    assert rejected(parse_xlsx, data) == [RowError(0, "file", "The file has more than 1048576 rows.")]


def test_a_wrong_stored_sheet_size_does_not_cut_rows_off():
    # Given a workbook whose sheet claims to hold only its header, as some generators write
    workbook = xlsx_file(HEADER, ["多久发货", "48 小时", "物流"], ["能开票吗", "能", "发票"])
    data = rewritten_sheet(workbook, b'<dimension ref="A1:C3"', b'<dimension ref="A1:C1"')
    # When it is parsed
    # Then every row is still read
    assert [e.question for e in parse_xlsx(data)] == ["多久发货", "能开票吗"]


def test_only_the_first_sheet_is_read():
    # Given a workbook whose second sheet holds garbage
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(["多久发货", "48 小时", "物流"])
    workbook.create_sheet("notes").append(["不是", "表头"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    # When it is parsed
    # Then the first sheet's entry is returned
    assert [e.question for e in parse_xlsx(buffer.getvalue())] == ["多久发货"]


def test_too_many_xlsx_rows_are_refused():
    # Given a sheet with one entry over the limit
    data = xlsx_file(HEADER, *([f"问题 {n}", "答案", "其他"] for n in range(MAX_ROWS + 1)))
    # When it is parsed
    # Then it is refused as a whole
    assert places(rejected(parse_xlsx, data)) == [(0, "file")]


@pytest.mark.parametrize(
    "data",
    [
        b"question,answer,category\r\nq,a,\xe5\x85\xb6\xe4\xbb\x96\r\n",
        b"PK\x03\x04 truncated",
        b"",
    ],
)
def test_a_file_that_is_not_xlsx_is_refused_not_raised(data):
    # Given bytes that are not a workbook, named .xlsx
    # When they are imported
    # Then the file is refused
    assert rejected(parse_file, "kb.xlsx", data) == [RowError(0, "file", "The file is not a readable .xlsx workbook.")]


def test_a_zip_that_is_not_a_workbook_is_refused():
    # Given a valid zip with no workbook inside
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    # When it is parsed
    # Then the file is refused
    assert places(rejected(parse_xlsx, buffer.getvalue())) == [(0, "file")]


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    # Given a small zip whose parts unpack to more than 64 MB
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/sharedStrings.xml", "w") as part,
    ):
        for _ in range(65):
            part.write(b" " * 2**20)
    assert len(buffer.getvalue()) < 2**20
    # When it is parsed
    # Then it is refused for its unpacked size
    assert rejected(parse_xlsx, buffer.getvalue()) == [RowError(0, "file", "The workbook unpacks to more than 64 MB.")]


# --- parse_file ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("filename", ["kb.CSV", "导出.xlsx", "kb.XLSX"])
def test_the_parser_follows_the_extension_in_any_case(filename):
    # Given the same entries in the format the name says
    data = (to_xlsx if filename.lower().endswith(".xlsx") else to_csv)(dataclasses.asdict(e) for e in ENTRIES)
    # When the file is imported by name
    # Then the entries come back
    assert parse_file(filename, data) == ENTRIES


@pytest.mark.parametrize("filename", ["kb.xls", "kb.txt", "kb", "kb.csv.exe"])
def test_an_unknown_extension_is_refused(filename):
    # Given a file of another type
    # When it is imported
    # Then it is refused as a file
    assert rejected(parse_file, filename, b"question,answer,category\r\n") == [
        RowError(0, "file", "Only .csv and .xlsx files can be imported.")
    ]


def test_the_rejection_summarises_its_errors():
    # Given a file with seven bad rows
    data = csv_file(HEADER, *([f"问题 {n}", "答案", "天气"] for n in range(7)))
    # When it is parsed
    with pytest.raises(ImportRejected) as raised:
        parse_csv(data)
    # Then the message counts them, shows the first five and says how many more
    message = str(raised.value)
    assert message.startswith("Nothing was imported; 7 problem(s) found. Row 2, category: Unknown category '天气'")
    assert "Row 6, category" in message and "Row 7, category" not in message
    assert message.endswith("And 2 more.")
