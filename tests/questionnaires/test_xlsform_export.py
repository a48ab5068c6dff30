"""XLSForm export: every shipped definition → XLSForm → pyxform converts it → our import gives the same
definition; show_if conditions keep their meaning as XPath relevants."""

from __future__ import annotations

import pytest
from pyxform.xls2xform import convert

from questionnaires import load_shipped
from questionnaires.xlsform import load_xlsform
from questionnaires.xlsform_export import export_xlsform
from questionnaires.xlsform_logic import show_if_to_relevant

SHIPPED = load_shipped()


@pytest.mark.parametrize("key", sorted(SHIPPED))
def test_a_shipped_definition_round_trips_through_pyxform(key, tmp_path):
    path = tmp_path / f"{key}.xlsx"
    path.write_bytes(export_xlsform(SHIPPED[key]))
    converted = convert(xlsform=str(path), validate=False)
    assert "<h:html" in converted.xform and converted.warnings == []
    back, notes = load_xlsform(path)
    assert back.to_dict() == SHIPPED[key].to_dict() and notes == []


@pytest.mark.parametrize("show_if, relevant", [
    ("reception <= 2 or attitude <= 2", "${reception} <= 2 or ${attitude} <= 2"),
    ("'khac' in improve_first", "selected(${improve_first}, 'khac')"),
    ("gave_feedback == 'co'", "${gave_feedback} = 'co'"),
    # show_if: an unanswered question makes a comparison false; XPath compares '' and would say true
    ("gave_feedback != 'co'", "${gave_feedback} != '' and ${gave_feedback} != 'co'"),
    ("domain not in ['a', 'b']", "${domain} != '' and not((${domain} = 'a' or ${domain} = 'b'))"),
    ("not answered(why) and (a == 1 or b > 2.5)", "not(${why} != '') and (${a} = 1 or ${b} > 2.5)"),
])
def test_show_if_becomes_a_relevant_with_the_same_meaning(show_if, relevant):
    assert show_if_to_relevant(show_if, {"improve_first"}) == relevant
