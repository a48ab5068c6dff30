"""What a reviewer attacking repeats, dates and paged forms found (each a 500 or lost data before its fix): forged
counts and part numbers, a count typed as text, dates past Python's years, a repeat sharing a question's key, a
question named like a repeat's export column, long wide names in SPSS/Stata, XLSForm groups left open or crossed."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import pytest_asyncio

from questionnaires import DefinitionError, load_definition
from survey_app.campaigns.catalog import register
from survey_app.campaigns.demo import load_campaign
from survey_app.core.tables import Campaign, Response
from tests.app.helpers import app_client, form_path
from tests.app.test_repeat_form import key_of
from tests.questionnaires.forms import form_yaml, section
from tests.questionnaires.test_repeats import HOUSEHOLD, household_yaml

COUNT_AS_TEXT = form_yaml("count_as_text", section("""
    - {key: n_text, type: text, label: {vi: Số người (chữ), en: N}}
    - {key: n, type: calculate, calculation: "${n_text}", label: {vi: Số, en: N}}
"""), section("""
    - {key: name, type: text, label: {vi: Tên, en: Name}}
""", "members", "{vi: Thành viên, en: Members}", repeat="{count: n}"), title="{vi: Đếm, en: Count}")
FAR_DATES = form_yaml("far_dates", section("""
    - {key: days_ago, type: integer, label: {vi: Số ngày trước, en: Days ago}}
    - {key: started, type: calculate, calculation: "format-date(date(today() - ${days_ago}), '%d/%m/%Y')",
       label: {vi: Ngày bắt đầu, en: Start}}
    - {key: note, type: text, label: {vi: Ghi chú, en: Note}}
    - {key: note_day, type: calculate, calculation: "format-date(${note}, '%d/%m/%Y')", label: {vi: Ngày, en: Day}}
"""), title="{vi: Ngày, en: Dates}")
PAGED = household_yaml("household_paged", layout="paged")


@pytest_asyncio.fixture
async def client(app):
    async with app_client(app, "198.51.100.78") as opened:  # its own per-minute post limit
        yield opened


@pytest_asyncio.fixture
async def forms(app, settings):
    ids = []
    for code, text in (("HO-ATK", HOUSEHOLD), ("DT-ATK", FAR_DATES), ("CN-ATK", COUNT_AS_TEXT), ("PG-ATK", PAGED)):
        ids.append(await load_campaign(code, "Tấn công", await register(load_definition(text)), dt.date.today()))
    yield {code: form_path(settings, campaign_code=code) for code in ("HO-ATK", "DT-ATK", "PG-ATK", "CN-ATK")}
    await Response.delete().where(Response.campaign.is_in(ids))
    await Campaign.delete().where(Campaign.id.is_in(ids))


async def post(client, path: str, data: dict) -> httpx.Response:
    page = (await client.get(path)).text
    return await client.post(path, data={"_key": key_of(page), "_lang": "vi", **data})


@pytest.mark.parametrize("form, data", [
    ("HO-ATK", {"n_members": "1", "members._count": "²", "members.1.name": "A", "members.1.age": "3"}),
    ("PG-ATK", {"n_members": "1", "_part": "²"}),
    ("CN-ATK", {"n_text": "--5"}),
    ("CN-ATK", {"n_text": "²"}),
])
async def test_forged_or_odd_numbers_get_the_form_again_never_a_500(client, forms, form, data):
    answered = await post(client, forms[form], data)
    assert answered.status_code in (200, 303, 422), answered.text[:300]


async def test_a_count_the_page_cannot_show_is_refused_on_its_repeat(client, forms):
    answered = await post(client, forms["CN-ATK"], {"n_text": "999"})
    assert answered.status_code == 422 and "50" in answered.text


@pytest.mark.parametrize("data", [{"days_ago": "800000"}, {"days_ago": "-3000000"}, {"note": "9999-12-31T23:00Z"},
                                  {"note": "0001-01-01T00:00+07:00"}])
async def test_a_date_past_pythons_years_computes_to_nothing_and_the_answer_is_stored(client, forms, data):
    """ODK gives an empty value for a date it cannot make; the form was refused with a generic 422 (and an
    official's saved draft opened no page again)."""
    answered = await post(client, forms["DT-ATK"], data)
    assert answered.status_code == 303, answered.text[:300]


def test_a_repeat_sharing_a_questions_key_is_refused():
    text = COUNT_AS_TEXT.replace("key: n_text", "key: members").replace("${n_text}", "${members}")
    with pytest.raises(DefinitionError) as refused:
        load_definition(text)
    assert any("also a question's key" in problem.message for problem in refused.value.problems)


def test_a_question_named_like_a_repeats_export_column_is_refused():
    text = COUNT_AS_TEXT.replace("key: n_text", "key: members_1_name").replace("${n_text}", "${members_1_name}")
    with pytest.raises(DefinitionError) as refused:
        load_definition(text)
    assert any("members_N_" in problem.message for problem in refused.value.problems)


@pytest.mark.parametrize("count", ["51", "100000000000000000000"])
def test_a_fixed_count_above_fifty_is_refused(count):
    with pytest.raises(DefinitionError):
        load_definition(COUNT_AS_TEXT.replace("repeat: {count: n}", f"repeat: {{count: {count}}}"))


def test_a_repeat_whose_wide_columns_outgrow_statas_names_is_refused_for_dta_before_writing():
    from survey_app.exports.service import ExportError, ExportPlan, refuse_long_names
    from survey_app.exports.codebook import Column
    from analysis.export_writers import Variable

    long_name = "household_members_12_" + "x" * 20
    column = Column(Variable(long_name, "nhãn", "label", "string"), "x", "text", {}, ("household_members", 11))
    plan = ExportPlan(campaign={"code": "C"}, response_count=1, columns=[column], lookups=None)
    with pytest.raises(ExportError, match="Stata chỉ nhận tên cột tối đa 32"):
        refuse_long_names(plan, "dta")
    refuse_long_names(plan, "sav")  # SPSS takes 64
    refuse_long_names(plan, "csv")


@pytest.mark.parametrize("rows", [
    [["begin_repeat", "members", "Thành viên"], ["text", "name", "Tên"], ["end_group", None, None]],
    [["begin_repeat", "members", "Thành viên"], ["text", "name", "Tên"]],
    [["text", "name", "Tên"], ["end_repeat", None, None]],
])
def test_xlsform_groups_left_open_or_crossed_are_refused_with_their_row(tmp_path, rows):
    from questionnaires.xlsform import load_xlsform
    from tests.app.test_xlsform_upload import workbook_bytes

    path = tmp_path / "form.xlsx"
    path.write_bytes(workbook_bytes({"survey": [["type", "name", "label::Tiếng Việt (vi)"], *rows],
                                           "settings": [["form_id", "version"], ["f", "1"]]}))
    with pytest.raises(DefinitionError) as refused:
        load_xlsform(path)
    assert any(problem.field == "survey.type" for problem in refused.value.problems)


async def test_an_older_versions_plain_answer_under_a_repeats_key_does_not_break_the_export(app, tmp_path):
    """PostgreSQL's json_array_length failed on the scalar ("cannot get array length of a scalar"): no export."""
    from survey_app.exports.service import export_campaign
    from tests.app.test_exports import add_response, make_campaign

    # a key of its own: other modules' campaigns take the latest "household" of the shared test database
    TWO_MEMBERS_FORM = household_yaml("household_mixed")
    older = household_yaml("household_mixed", version="0").split("  - key: members")[0] + (
        "      - {key: members, type: text, label: {vi: Ghi chú thành viên, en: Members note}}\n")
    first = await register(load_definition(older))
    second = await register(load_definition(TWO_MEMBERS_FORM))
    campaign = await make_campaign("EXP-MIX", "household_mixed")
    await add_response(campaign, "SO02", {"n_members": 1, "members": "ghi chú"}, questionnaire_id=first)
    await add_response(campaign, "SO02", {"n_members": 1, "urban": "no", "members": [{"name": "Lan", "age": 40}]},
                       questionnaire_id=second)
    await export_campaign("EXP-MIX", "csv", tmp_path / "x.csv")
    header, *rows = (tmp_path / "x.csv").read_text(encoding="utf-8-sig").splitlines()
    assert "members_1_name" in header and len(rows) == 2 and any("Lan" in row for row in rows)


def test_hand_edited_repeat_limits_that_are_no_mapping_are_refused_with_the_row(tmp_path):
    from questionnaires.xlsform import load_xlsform
    from tests.app.test_xlsform_upload import workbook_bytes

    path = tmp_path / "form.xlsx"
    path.write_bytes(workbook_bytes({
        "survey": [["type", "name", "label::Tiếng Việt (vi)", "repeat_count"], ["integer", "n", "Số người", None],
                   ["begin_repeat", "members", "Thành viên", "${n}"], ["text", "name", "Tên", None],
                   ["end_repeat", None, None, None]],
        "settings": [["form_id", "version", "sipas_extras"], ["f", "1", '{"repeat_limits": {"members": 5}}']]}))
    with pytest.raises(DefinitionError) as refused:
        load_xlsform(path)
    assert [problem.line for problem in refused.value.problems] == [3]


async def test_a_retry_after_an_import_died_is_stored_not_refused_for_its_held_codes(app, settings):
    """A process that died mid-import left its rows held; the clean-up ran only after the duplicate check, so
    sending the same file again was refused ("đã được gửi trước đây") for codes nobody ever received."""
    from survey_app.core.dossier_tables import Dossier
    from survey_app.dossiers import services
    from tests.app.test_dossier_import import numbered_rows

    if not settings.is_sqlite:
        pytest.skip("PostgreSQL stores an import in one transaction: nothing is held")
    rows = numbered_rows(3)
    checked = services.check_rows(rows, await services.load_catalogue(), settings.secret_key)
    died = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=20)
    records = [tuple(row[name] for name in services.INSERT_COLUMNS[:-3]) + ("import", died, "deadbeefdeadbeef")
               for row in checked.rows]
    names = ", ".join(f'"{name}"' for name in services.INSERT_COLUMNS)
    insert = f'INSERT INTO "dossier" ({names}) VALUES ({", ".join("?" * len(services.INSERT_COLUMNS))})'
    await Dossier._meta.db.writer.execute_write(lambda connection: connection.executemany(insert, records))
    assert len(await services.store_dossiers(rows, settings.secret_key, "import")) == 3
    assert await Dossier.count().where(Dossier.held_by == "deadbeefdeadbeef") == 0
