"""Every definition problem has its Vietnamese wording (the administrator's upload page shows it)."""

from questionnaires.errors import CODE_VI, Code, Problem


def test_every_definition_message_has_a_vietnamese_wording():
    assert [code.name for code in Code if code.name not in CODE_VI] == []


def test_a_problem_reads_in_vietnamese_and_keeps_its_english_message():
    problem = Problem("a.yaml", 3, "type", Code.UNKNOWN_TYPE.format(value="x", allowed="text"))
    assert str(problem) == "a.yaml:3: type: unknown item type 'x'. Use one of: text."
    assert problem.text_vi() == "a.yaml:3: type: loại câu hỏi 'x' không được biết. Dùng một trong: text."
