"""A group's field-list or table-list appearance: kept on its section (a top-level group is a section, one page
of the paged layout), written back by the export; tests/app/test_form_languages.py shows it on the form."""

from __future__ import annotations

import pytest
from pyxform.xls2xform import convert

from questionnaires import DefinitionError, load_definition
from questionnaires.xlsform import load_xlsform
from questionnaires.xlsform_export import export_xlsform
from tests.questionnaires.test_languages import THREE_LANGUAGES
from tests.questionnaires.test_pyxform_fixtures import FIXTURES
from tests.questionnaires.test_xlsform import write_workbook


def test_pyxform_table_list_fixture_keeps_its_groups_appearance():
    questionnaire, notes = load_xlsform(FIXTURES / "example_xls/table-list.xls")
    assert [(section.key, section.appearance) for section in questionnaire.sections] == [
        ("main", None), ("table_list_test2", "table-list"), ("happy_sad_table", "table-list")]
    assert not any("appearance" in str(note) for note in notes)


def test_field_list_is_kept_on_a_top_level_group_and_noted_on_a_nested_one(tmp_path):
    survey = [["type", "name", "label", "appearance"],
              ["begin_group", "household", "Hộ", "field-list"],
              ["integer", "size", "Số người", None],
              ["begin_group", "head", "Chủ hộ", "field-list"],
              ["text", "head_name", "Tên", None],
              ["end_group", None, None, None],
              ["end_group", None, None, None],
              ["begin_group", "other", "Khác", "w4 field-list"],
              ["text", "note_text", "Ghi chú", None],
              ["end_group", None, None, None]]
    questionnaire, notes = load_xlsform(write_workbook(tmp_path / "groups.xlsx", {"survey": survey}))
    assert [(section.key, section.appearance, len(section.items)) for section in questionnaire.sections] == [
        ("household", "field-list", 2), ("other", "field-list", 1)]
    assert "survey row 4: nested group flattened into its top-level group (its field-list holds: the top-level " \
           "group is one page)." in [str(note) for note in notes]
    assert "survey row 8: group appearance 'w4' is not supported here; dropped." in [str(note) for note in notes]


def test_the_export_writes_the_appearance_back_and_pyxform_reads_it(tmp_path):
    text = THREE_LANGUAGES.replace("  - key: rating\n", "  - key: rating\n    appearance: table-list\n")
    questionnaire = load_definition(text.replace("  - key: about\n", "  - key: about\n    appearance: field-list\n"))
    path = tmp_path / "appearance.xlsx"
    path.write_bytes(export_xlsform(questionnaire))
    assert 'appearance="field-list"' in convert(xlsform=str(path), validate=False).xform
    back, _ = load_xlsform(path)
    assert back.to_dict() == questionnaire.to_dict()
    assert [section.appearance for section in back.sections] == ["field-list", "table-list"]


def test_an_unknown_section_appearance_is_a_problem():
    with pytest.raises(DefinitionError) as raised:
        load_definition(THREE_LANGUAGES.replace("  - key: rating\n", "  - key: rating\n    appearance: grid\n"))
    assert "appearance must be one of field-list, table-list; found 'grid'." in str(raised.value)
