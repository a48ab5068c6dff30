"""A demo province: its unit tree, counters, domains, two open campaigns and seeded synthetic answers."""

from __future__ import annotations

import datetime as dt
import json
import random
import tempfile
import uuid
from pathlib import Path

from questionnaires import load_shipped

from survey_app.campaigns.catalog import register_shipped
from survey_app.public.services import answers_digest
from survey_app.core.tables import Campaign, Counter, Domain, Response, Unit
from survey_app.dossiers.procedures import load_demo_procedures

PROVINCE = ("DEMO", "Tỉnh Minh Họa", "Demo Province")
DEPARTMENTS = [
    "Sở Nội vụ", "Sở Tư pháp", "Sở Kế hoạch và Đầu tư", "Sở Tài chính", "Sở Công Thương",
    "Sở Nông nghiệp và Phát triển nông thôn", "Sở Giao thông vận tải", "Sở Xây dựng",
    "Sở Tài nguyên và Môi trường", "Sở Thông tin và Truyền thông", "Sở Lao động - Thương binh và Xã hội",
    "Sở Văn hóa, Thể thao và Du lịch", "Sở Khoa học và Công nghệ", "Sở Giáo dục và Đào tạo", "Sở Y tế",
    "Thanh tra tỉnh", "Ban Dân tộc", "Ban Quản lý các khu công nghiệp", "Sở Ngoại vụ",
    "Trung tâm Phục vụ hành chính công tỉnh",
]
DISTRICTS = [
    "Thành phố Minh Châu", "Thị xã Hòa Bình", "Huyện An Phú", "Huyện Bình Sơn", "Huyện Cẩm Lệ",
    "Huyện Đức Thọ", "Huyện Gia Viễn", "Huyện Hướng Hóa", "Huyện Krông Nô", "Huyện Lạc Dương", "Huyện Mỹ Xuyên",
]
COMMUNES = {0: ["Phường Hải Châu", "Phường Thạch Thang"], 2: ["Xã An Hòa", "Xã Phú Lộc"], 3: ["Xã Tịnh Ấn"]}
COUNTER_RATING_CAMPAIGN = "QUAY-2026"
SIPAS_CAMPAIGN = "SIPAS-2026"


async def add_unit(code: str, name: str, level: str, parent: int | None, name_en: str = "") -> int:
    unit = Unit(code=code, name=name, name_en=name_en, level=level, parent=parent)
    await unit.save()
    return unit.id


def demo_domains(definition) -> list[Domain]:
    """The procedure domains the counter rating offers, so stored domain codes match the form's choices."""
    domain_item = next(item for item in definition.items if item.type == "domain")
    return [Domain(code=choice.value, name=choice.label["vi"], name_en=choice.label.get("en", ""))
            for choice in domain_item.choices]


async def load_units() -> list[int]:
    """The tree; returns the ids of units that receive dossiers (every sở, huyện and xã)."""
    province = await add_unit(PROVINCE[0], PROVINCE[1], "province", None, PROVINCE[2])
    receiving = [await add_unit(f"SO{number:02d}", name, "so", province) for number, name in enumerate(DEPARTMENTS, 1)]
    for number, name in enumerate(DISTRICTS, 1):
        district = await add_unit(f"H{number:02d}", name, "huyen", province)
        receiving.append(district)
        for commune_number, commune in enumerate(COMMUNES.get(number - 1, []), 1):
            receiving.append(await add_unit(f"H{number:02d}X{commune_number}", commune, "xa", district))
    return receiving


async def load_counters(unit_ids: list[int]) -> None:
    units = await Unit.select(Unit.id, Unit.code).where(Unit.id.is_in(unit_ids))
    await Counter.insert(*[
        Counter(code=f"{unit['code']}-Q{number}", unit=unit["id"], name=f"Quầy số {number}")
        for unit in units for number in (1, 2)
    ])


DEMO_CAMPAIGNS = (
    (COUNTER_RATING_CAMPAIGN, "Đánh giá tại quầy năm 2026 (Quyết định 766)", "counter_rating"),
    (SIPAS_CAMPAIGN, "Khảo sát SIPAS năm 2026", "sipas_citizen"),
)


async def load_campaign(code: str, name: str, questionnaire_id: int, today: dt.date) -> int:
    campaign = Campaign(code=code, name=name, questionnaire=questionnaire_id, status="open",
                        starts_on=today.replace(month=1, day=1), ends_on=today.replace(month=12, day=31))
    await campaign.save()
    return campaign.id


def synthetic_raw_answers(definition, rng: random.Random, satisfaction: float, domain_codes: list[str]) -> dict:
    """Form-like string answers: ratings leaning on the unit's satisfaction level, a few 'na'."""
    raw: dict = {}
    for item in definition.items:
        if item.type == "rating5":
            roll = rng.random()
            raw[item.key] = "na" if roll < 0.05 else str(rng.choice([4, 5]) if roll < satisfaction else rng.randint(1, 3))
        elif item.type in ("single", "multiple") and item.choices:
            value = rng.choice(item.choices).value
            raw[item.key] = [value] if item.type == "multiple" else value
        elif item.type == "domain":
            raw[item.key] = rng.choice(domain_codes)
        elif item.type == "integer":
            raw[item.key] = str(item.minimum if item.minimum is not None else 1)
    return raw


def valid_answers(definition, raw: dict) -> dict | None:
    """Validate like the form does; drop what a conditional question rejects, give up if still invalid."""
    answers, errors = definition.validate_answers(raw)
    if errors:
        answers, errors = definition.validate_answers({k: v for k, v in raw.items() if k not in errors})
    return None if errors else answers


async def load_responses(campaign_id: int, questionnaire_id: int, definition, per_unit: int, seed: int) -> int:
    rng = random.Random(seed)
    domains = {row["code"]: row["id"] for row in await Domain.select(Domain.code, Domain.id)}
    rows = []
    for counter in await Counter.select(Counter.id, Counter.unit).order_by(Counter.id):
        satisfaction = 0.55 + 0.4 * rng.random()
        for _ in range(per_unit // 2):
            answers = valid_answers(definition, synthetic_raw_answers(definition, rng, satisfaction, list(domains)))
            if answers is None:
                continue
            domain_code = next((answers[i.key] for i in definition.items if i.type == "domain" and i.key in answers), None)
            rows.append(Response(
                campaign=campaign_id, unit=counter["unit"], counter=counter["id"], domain=domains.get(domain_code),
                questionnaire=questionnaire_id, idempotency_key=uuid.UUID(int=rng.getrandbits(128)).hex,
                answers_digest=answers_digest(answers), answers=json.dumps(answers, ensure_ascii=False),
                channel="demo",
            ))
    for start in range(0, len(rows), 500):
        await Response.insert(*rows[start:start + 500])
    return len(rows)


DEMO_PASSWORD = "demo-sipas-2026"
DEMO_STAFF = (("admin", "admin", None), ("analyst", "analyst", None), ("so01", "unit_manager", "SO01"),
              ("h01", "unit_manager", "H01"))


async def load_demo(per_unit: int = 20, seed: int = 2026) -> bool:
    """Load the demo province once; returns False when it is already there."""
    if await Unit.exists().where(Unit.code == PROVINCE[0]):
        return False
    questionnaire_ids = await register_shipped()
    await load_counters(await load_units())
    definitions = load_shipped()
    await Domain.insert(*demo_domains(definitions["counter_rating"]))
    await load_demo_procedures()
    for offset, (code, name, key) in enumerate(DEMO_CAMPAIGNS):
        if key in definitions:
            campaign_id = await load_campaign(code, name, questionnaire_ids[key], dt.date.today())
            await load_responses(campaign_id, questionnaire_ids[key], definitions[key], per_unit, seed + offset)
    await load_staff()
    return True


async def load_staff() -> None:
    """One account per role; the demo runs on 127.0.0.1, so its passwords are printed, never used elsewhere."""
    from survey_app.accounts.users import create_user

    for username, role, unit_code in DEMO_STAFF:
        await create_user(username, DEMO_PASSWORD, role, unit_code, display_name=f"Demo {role}", actor="demo")


OFFICIALS_CAMPAIGN = "PAR-SO-2026"
# The 2022 plan's quota per department (domain brief): 5 heads of division and 4 civil servants
OFFICIALS_QUOTAS = ["lanh_dao_phong=5", "cong_chuc=4"]
FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ")
GIVEN_NAMES = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Minh", "Nga", "Phúc", "Quân", "Thảo", "Vy")


def officials_frame(path: Path, seed: int) -> Path:
    """A synthetic list of officials: every department, 8 heads of division and 10 civil servants each."""
    import csv

    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit", "role", "staff_id", "name"])
        for number in range(1, len(DEPARTMENTS) + 1):
            for role, count in (("lanh_dao_phong", 8), ("cong_chuc", 10)):
                for person in range(count):
                    writer.writerow([f"SO{number:02d}", role, f"CB-SO{number:02d}-{role}-{person:02d}",
                                     f"{rng.choice(FAMILY_NAMES)} {rng.choice(GIVEN_NAMES)}"])
    return path


async def load_officials_demo(secret_key: str, seed: int = 2026) -> list[dict] | None:
    """An open officials' campaign (PAR INDEX, departments) with its sample drawn: the slips (with their one-time
    codes) the first time, None when it is already there (codes are stored only as hashes)."""
    from survey_app.officials import draws

    if await Campaign.exists().where(Campaign.code == OFFICIALS_CAMPAIGN):
        return None
    questionnaire_ids = await register_shipped()
    today = dt.date.today()
    await Campaign.insert(Campaign(code=OFFICIALS_CAMPAIGN, name="Điều tra xã hội học CCHC năm 2026 (sở, ban, ngành)",
                                   questionnaire=questionnaire_ids["par_index_so"], status="open", mode="invitation",
                                   starts_on=today.replace(month=1, day=1), ends_on=today.replace(month=12, day=31)))
    with tempfile.TemporaryDirectory() as folder:
        frame = officials_frame(Path(folder) / "officials.csv", seed)
        stored = await draws.draw_and_store(secret_key, OFFICIALS_CAMPAIGN, frame, None, OFFICIALS_QUOTAS, seed, "so")
    return stored.slips.to_dict("records")


def demo_codes_file(settings) -> Path:
    """Beside the SQLite demo database (or in var/): the demo officials' invitation codes."""
    from survey_app.core.engines import sqlite_path

    folder = sqlite_path(settings.database_url).parent if settings.is_sqlite else Path("var")
    return folder / "demo-invitation-codes.csv"


def write_demo_codes(path: Path, slips: list[dict]) -> None:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["unit", "role", "code"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(slips)
    path.chmod(0o600)  # invitation codes are bearer secrets, even in a demo


def demo_codes(settings, count: int = 3) -> list[dict]:
    import csv

    path = demo_codes_file(settings)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))[:count]


async def load_demo_with_officials(settings) -> bool:
    """`survey demo`: the province, its key's fingerprint, and the officials' campaign whose codes exist in plain
    text only now (kept in demo_codes_file for the demo's own use)."""
    from survey_app.core import server_key

    loaded = await load_demo()
    if loaded:
        await weight_demo_campaign()
    await server_key.remember(settings.secret_key)
    slips = await load_officials_demo(settings.secret_key)
    if slips:
        write_demo_codes(demo_codes_file(settings), slips)
    return loaded


async def weight_demo_campaign(code: str = SIPAS_CAMPAIGN, seed: int = 2026) -> dict:
    """The demo's SIPAS campaign weighted to the dossiers its units and domains handled (synthetic counts: each
    response stands for 20–120 dossiers of its unit): raking on unit and domain, weights trimmed to 3× the mean."""
    from survey_app.results import weighting

    campaign = await weighting.campaign_by_code(code)
    frame = await weighting.weighting_frame(campaign["id"])
    text, total = demo_population(frame, random.Random(seed))
    mean_weight = total / len(frame)
    plan = weighting.Plan(calibration="rake", margins=("unit", "domain"), upper=round(3 * mean_weight, 1))
    await weighting.save_plan(code, plan, "analyst", "so-ho-so-demo.csv", text.encode())
    return await weighting.run_plan(code, "analyst")


def demo_population(frame, rng: random.Random) -> tuple[str, float]:
    """margin,level,count rows: dossiers per unit, and per domain in the responses' shares, with one total."""
    per_unit = frame["unit"].value_counts().sort_index()
    units = {unit: count * rng.randint(20, 120) for unit, count in per_unit.items()}
    total = sum(units.values())
    per_domain = frame["domain"].value_counts().sort_index()
    domains = {domain: total * count // len(frame) for domain, count in per_domain.items()}
    domains[max(domains, key=domains.get)] += total - sum(domains.values())
    rows = [f"unit,{unit},{count}" for unit, count in units.items()]
    rows += [f"domain,{domain},{count}" for domain, count in domains.items()]
    return "margin,level,count\n" + "\n".join(rows) + "\n", float(total)
