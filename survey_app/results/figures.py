"""One definition of every published figure, read from stored sums (issues #18, #25, #26; docs/scaling.md).

What a figure is, on every page that shows one (dashboard, manager view, report, public results, index API):
- responses counted: every response of the campaign except those the analyst excluded in the quality review;
  officials' answers also go through suppression.publishable (units with too few answers left out);
- design: the campaign's weights (Response.weight), each response its own PSU drawn with replacement, no strata;
  a group's SE is that of a domain of the whole campaign (analysis.aggregates);
- a unit's figure: the unit together with every unit below it ("gồm các đơn vị trực thuộc"); a page that also shows
  a unit's own responses labels it "riêng đơn vị"; a level's: the responses of units at that level; a domain's:
  the responses in that domain; the province's: all.
Citizens' campaigns keep their sums per unit × domain in figure_cell, folded in chunks as responses arrive (a request
waits for at most AWAIT_AT_MOST new responses; more are folded in the background while the last sums are served).
Officials' campaigns (a few hundred answers, suppressed per unit) sum their publishable answers in memory.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
import numpy as np
from cachetools import LRUCache

from survey_app.results.frames import SRS_NOTE, WEIGHTED_NOTE  # English; pages show wording.py's Vietnamese
from analysis.aggregates import RatingSums, grouped_rating_sums, indices_from_sums, rating_sums
from analysis.sipas import VALID_RATINGS, scoring_items
from survey_app.core import db
from survey_app.core.campaign_tables import QualityReview
from survey_app.core.figure_tables import FigureCell, FigureState
from survey_app.core.single_flight import cached_or_built

CHUNK = 20_000  # responses read and folded at a time: bounded memory, and the event loop runs between chunks
AWAIT_AT_MOST = 5_000  # a request waits for folding this many new responses at most (tens of ms)
NO_DOMAIN = "(none)"
UNIT_WITH_BELOW = "gồm các đơn vị trực thuộc"
UNIT_ALONE = "riêng đơn vị"

_cells: LRUCache = LRUCache(maxsize=64)  # per worker: the decoded cells of a campaign's stored state
_scorings: dict[int, tuple[dict, list[str]]] = {}  # questionnaire id → scoring, items (immutable once used)
_folding: dict[int, asyncio.Task] = {}  # campaign id → the fold under way (one at a time)


class NotEnoughData(Exception):
    """The campaign has too few counted responses for any index (the page says so instead of a figure)."""


@dataclass(frozen=True)
class Cell:
    unit: str
    level: str
    domain: str
    sums: RatingSums


@dataclass(frozen=True)
class CampaignCells:
    """A campaign's counted responses, as sums per unit × domain: every figure of the campaign follows from them."""

    scoring: dict
    cells: tuple[Cell, ...]
    left_out: dict  # officials' units left out (suppression): unit code → answers

    @property
    def responses(self) -> int:
        return sum(cell.sums.responses for cell in self.cells)

    def total(self, keep: Callable[[Cell], bool] = lambda cell: True) -> RatingSums | None:
        chosen = [cell.sums for cell in self.cells if keep(cell)]
        return sum(chosen[1:], chosen[0]) if chosen else None

    def figure(self, keep: Callable[[Cell], bool] = lambda cell: True) -> dict | None:
        """The index (with SE and CI) of the cells `keep` picks, as a domain of the campaign's design; None: none."""
        sums = self.total(keep)
        return None if sums is None else indices_from_sums(sums, self.scoring, self.responses).to_dict()

    @property
    def design_note(self) -> str:
        total = self.total()
        return SRS_NOTE if total is None or total.all_weights_one else WEIGHTED_NOTE


# What the figures depend on.

@dataclass(frozen=True)
class DataState:
    """What a campaign's figures depend on; a change in any part means computing again."""

    campaign_id: int
    responses: int
    last_response_id: int
    weight_total: float
    weight_by_id: float
    excluded: tuple[int, ...]


async def excluded_ids(campaign_id: int) -> tuple[int, ...]:
    rows = await QualityReview.select(QualityReview.response).where(
        (QualityReview.campaign == campaign_id) & (QualityReview.decision == "exclude")).order_by(QualityReview.response)
    return tuple(row["response"] for row in rows)


STATE_SQL = ("SELECT COUNT(*), MAX(id), SUM(CAST(weight AS DOUBLE PRECISION)), "
             "SUM(CAST(weight AS DOUBLE PRECISION) * id) FROM response WHERE campaign = $1")


async def data_state(campaign_id: int, without_excluded: bool) -> DataState:
    """One aggregate row. The id-weighted sum changes when weights move between responses with their total kept
    (post-stratification keeps it at the population), which the plain sum alone would miss."""
    [(responses, last_id, weight_total, weight_by_id)] = await db.fetch_tuples(STATE_SQL, campaign_id)
    return DataState(campaign_id, responses, last_id or 0, round(weight_total or 0.0, 9),
                     round(weight_by_id or 0.0, 6), await excluded_ids(campaign_id) if without_excluded else ())



# Reading a campaign's cells.

async def campaign_cells(campaign: dict, minimum: int, with_excluded: bool = False) -> CampaignCells:
    """The campaign's cells as every published figure counts them (`with_excluded`: the analyst's view with the
    excluded responses added back, labelled on the page)."""
    if campaign["mode"] == "invitation":
        return await _official_cells(campaign, minimum, with_excluded)
    state = await fresh_state(campaign)
    key = (campaign["id"], state["updated_at"], state["through_response"], state["excluded"], with_excluded)
    return await cached_or_built(_cells, key, lambda: _stored_cells(campaign, state, with_excluded))


async def _stored_cells(campaign: dict, state: dict, with_excluded: bool) -> CampaignCells:
    scoring, items = await scoring_of(campaign)
    rows = await db.fetch_tuples("SELECT unit, domain, sums FROM figure_cell WHERE campaign = $1 ORDER BY unit, domain",
                                 campaign["id"])
    names = await _names()
    sums = {(unit, domain): RatingSums.decoded(text, len(items)) for unit, domain, text in rows}
    if with_excluded and json.loads(state["excluded"]):
        for key, extra in (await _sums_of_ids(campaign["id"], json.loads(state["excluded"]), items)).items():
            sums[key] = sums[key] + extra if key in sums else extra
    return CampaignCells(scoring, tuple(_cell(names, unit, domain, value) for (unit, domain), value in sums.items()), {})


async def _official_cells(campaign: dict, minimum: int, with_excluded: bool) -> CampaignCells:
    """Officials' answers: publishable per unit (suppression.py), so summed from their (few) rows in memory."""
    state = await data_state(campaign["id"], without_excluded=not with_excluded)
    return await cached_or_built(_cells, ("officials", state, minimum), lambda: _built_official_cells(campaign, state, minimum))


async def _built_official_cells(campaign: dict, state, minimum: int) -> CampaignCells:
    from survey_app.results.frames import AnalysisCommandError, campaign_frame
    from survey_app.results.suppression import publishable

    try:
        _, scoring, frame = await campaign_frame(campaign["code"])
    except AnalysisCommandError as error:
        raise NotEnoughData(str(error)) from error
    frame = frame[~frame["response_id"].isin(state.excluded)].reset_index(drop=True)
    frame, left_out = publishable(frame, officials=True, minimum=minimum)
    items = scoring_items(scoring)
    cell_of: dict[tuple, int] = {}  # (unit, level, domain) → its cell's number, in order of first answer
    codes = np.array([cell_of.setdefault(key, len(cell_of))
                      for key in zip(frame["unit"], frame["level"], frame["domain"])], dtype=np.int64)
    ratings = frame.reindex(columns=items).to_numpy(dtype=float)
    grouped = await asyncio.to_thread(grouped_rating_sums, ratings, frame["weight"].to_numpy(dtype=float), codes)
    keys = list(cell_of)
    return CampaignCells(scoring, tuple(Cell(*keys[code], sums) for code, sums in grouped.items()), left_out)


async def cells_of_responses(campaign: dict, ids: list[int]) -> CampaignCells:
    """Cells of the given responses only (a dashboard's period), summed from their answers."""
    scoring, items = await scoring_of(campaign)
    names = await _names()
    sums = await _sums_of_ids(campaign["id"], ids, items)
    return CampaignCells(scoring, tuple(_cell(names, unit, domain, value) for (unit, domain), value in sums.items()), {})


def _cell(names: dict, unit_id: int, domain_id: int, sums: RatingSums) -> Cell:
    unit = names["units"][unit_id]
    return Cell(unit["code"], unit["level"], names["domains"].get(domain_id, NO_DOMAIN), sums)


async def _names() -> dict:
    from survey_app.core.tables import Domain, Unit

    units = {row["id"]: row for row in await Unit.select(Unit.id, Unit.code, Unit.level)}
    return {"units": units, "domains": {row["id"]: row["code"] for row in await Domain.select(Domain.id, Domain.code)}}


async def scoring_of(campaign: dict) -> tuple[dict, list[str]]:
    """The campaign's scoring map and its item keys (a used questionnaire never changes: kept per worker)."""
    from survey_app.campaigns.catalog import definition_of
    from survey_app.core.tables import Questionnaire

    questionnaire_id = campaign["questionnaire"]
    if questionnaire_id not in _scorings:
        questionnaire = await Questionnaire.select().where(Questionnaire.id == questionnaire_id).first()
        scoring = definition_of(questionnaire).scoring_dict()
        if not scoring.get("factors"):
            raise NotEnoughData(f"campaign {campaign['code']}: questionnaire {questionnaire['key']} has no scoring map")
        _scorings[questionnaire_id] = (scoring, scoring_items(scoring))
    return _scorings[questionnaire_id]


# Keeping the stored cells up to date.

async def fresh_state(campaign: dict) -> dict:
    """The campaign's stored state once current, or the last one while a large fold runs in the background."""
    stored = await _state(campaign["id"])
    latest = await latest_response_id(campaign["id"])
    if stored is not None and _current(stored, latest, await _excluded_ids(campaign["id"])):
        return stored
    fold = _folding.get(campaign["id"]) or _start_fold(campaign)
    backlog = latest - max(stored["through_response"], 0) if stored else latest
    if stored is None or backlog <= AWAIT_AT_MOST:
        await asyncio.shield(fold)
        return await _state(campaign["id"])
    return stored


def _current(stored: dict, latest: int, excluded: list[int]) -> bool:
    return latest == stored["through_response"] and json.loads(stored["excluded"]) == excluded


def _start_fold(campaign: dict) -> asyncio.Task:
    task = _folding[campaign["id"]] = asyncio.ensure_future(fold(campaign))
    task.add_done_callback(lambda done: (_folding.pop(campaign["id"], None), done.cancelled() or done.exception()))
    return task


async def refresh_every_campaign() -> None:
    """Fold every campaign's responses (the migration's backfill, `survey figures`, and the server's start)."""
    from survey_app.core.tables import Campaign

    for campaign in await Campaign.select().where(Campaign.mode != "invitation").order_by(Campaign.id):
        try:
            await fold(campaign)
        except NotEnoughData:
            continue


async def fold(campaign: dict) -> None:
    """Add the responses that arrived since the last fold (and take out or put back those whose exclusion changed)
    to the stored cells; start again from nothing after `survey weight` or a change of scoring items."""
    _, items = await scoring_of(campaign)
    item_hash = hashlib.sha256(json.dumps(items).encode()).hexdigest()
    stored, excluded = await _state(campaign["id"]), await _excluded_ids(campaign["id"])
    latest = await settled_response_id(campaign["id"], otherwise=max(stored["through_response"], 0) if stored else 0)
    # responses are only ever added: a newest id below the last one folded means some were taken away (a test,
    # a restore): start again, as after `survey weight` (through_response −1) or new scoring items
    anew = (stored is None or not 0 <= stored["through_response"] <= latest or stored["item_hash"] != item_hash)
    through = 0 if anew else stored["through_response"]
    sums = {} if anew else await _stored_sums(campaign["id"], len(items))
    changed = set() if anew else await _apply_exclusions(campaign["id"], sums, json.loads(stored["excluded"]),
                                                           excluded, through, items)
    seen = 0 if anew else stored["responses_seen"]
    while through < latest:
        rows = await db.fetch_tuples(CHUNK_SQL, campaign["id"], through, latest, CHUNK)
        through, seen = rows[-1][0], seen + len(rows)
        for key, extra in (await asyncio.to_thread(_chunk_sums, rows, items, set(excluded))).items():
            sums[key] = sums[key] + extra if key in sums else extra
            changed.add(key)
    await _store(campaign["id"], sums, changed, anew, {"through_response": through, "responses_seen": seen,
                                                       "excluded": json.dumps(excluded), "item_hash": item_hash,
                                                       "updated_at": dt.datetime.now(dt.timezone.utc)})


CHUNK_SQL = ("SELECT id, unit, COALESCE(domain, 0), answers, weight FROM response "
             "WHERE campaign = $1 AND id > $2 AND id <= $3 ORDER BY id LIMIT $4")
DECODE = msgspec.json.Decoder()


def _chunk_sums(rows: list, items: list[str], excluded: set[int]) -> dict[tuple[int, int], RatingSums]:
    """Sums per (unit id, domain id) of the rows not excluded; ratings other than 1..5 ("na", text) count as not rated."""
    kept = [row for row in rows if row[0] not in excluded]
    if not kept:
        return {}
    ratings = np.array([_ratings(row[3], items) for row in kept], dtype=float)
    ratings[~np.isin(ratings, VALID_RATINGS)] = np.nan
    units = np.array([row[1] for row in kept], dtype=np.int64)
    domains = np.array([row[2] for row in kept], dtype=np.int64)
    weights = np.array([row[4] for row in kept], dtype=float)
    grouped = grouped_rating_sums(ratings, weights, units * (1 << 31) + domains)
    return {(code >> 31, code & ((1 << 31) - 1)): sums for code, sums in grouped.items()}


def _ratings(answers, items: list[str]) -> list[float]:
    answers = answers if isinstance(answers, dict) else DECODE.decode(answers)
    return [value if type(value) in (int, float) else math.nan for value in map(answers.get, items)]


async def _apply_exclusions(campaign_id: int, sums: dict, before: list[int], now: list[int], through: int,
                            items: list[str]) -> set:
    """Take newly excluded responses out of the sums and put back those no longer excluded (sums are additive)."""
    taken_out = [rid for rid in set(now) - set(before) if rid <= through]
    put_back = [rid for rid in set(before) - set(now) if rid <= through]
    changed = set()
    for ids, sign in ((taken_out, -1), (put_back, 1)):
        for key, part in (await _sums_of_ids(campaign_id, ids, items)).items():
            sums[key] = sums[key] - part if sign < 0 else (sums[key] + part if key in sums else part)
            changed.add(key)
    return changed


async def _sums_of_ids(campaign_id: int, ids: list[int], items: list[str]) -> dict:
    rows = []
    for start in range(0, len(ids), 500):
        part = sorted(ids[start:start + 500])
        rows += await db.fetch_tuples(
            f"SELECT id, unit, COALESCE(domain, 0), answers, weight FROM response WHERE campaign = $1 AND id IN "
            f"({', '.join(str(int(rid)) for rid in part)})", campaign_id)
    return await asyncio.to_thread(_chunk_sums, rows, items, set())


async def _store(campaign_id: int, sums: dict, changed: set, anew: bool, state: dict) -> None:
    """The changed cells and the state in one transaction: a reader sees the old sums or the new, never half."""
    cells = [FigureCell(campaign=campaign_id, unit=unit, domain=domain, responses=sums[(unit, domain)].responses,
                        sums=sums[(unit, domain)].encoded()) for unit, domain in sorted(sums if anew else changed)]
    async with db.write_transaction():
        if anew:
            await FigureCell.delete().where(FigureCell.campaign == campaign_id)
        for cell in cells:
            await FigureCell.delete().where((FigureCell.campaign == campaign_id) & (FigureCell.unit == cell.unit)
                                            & (FigureCell.domain == cell.domain))
        for start in range(0, len(cells), 100):
            await FigureCell.insert(*cells[start:start + 100])
        if await FigureState.exists().where(FigureState.campaign == campaign_id):
            await FigureState.update({getattr(FigureState, name): value for name, value in state.items()}) \
                .where(FigureState.campaign == campaign_id)
        else:
            await FigureState.insert(FigureState(campaign=campaign_id, **state))


async def _stored_sums(campaign_id: int, item_count: int) -> dict:
    rows = await db.fetch_tuples("SELECT unit, domain, sums FROM figure_cell WHERE campaign = $1", campaign_id)
    return {(unit, domain): RatingSums.decoded(text, item_count) for unit, domain, text in rows}


async def _state(campaign_id: int) -> dict | None:
    return await FigureState.select().where(FigureState.campaign == campaign_id).first()


async def latest_response_id(campaign_id: int) -> int:
    [(latest,)] = await db.fetch_tuples("SELECT MAX(id) FROM response WHERE campaign = $1", campaign_id)
    return latest or 0


# On PostgreSQL a response's id comes from a sequence when it is inserted, but transactions commit in any order: a
# reader that saw id h may not see yet a lower id g whose transaction commits later, and a watermark moved to h would
# pass g for ever. Every transaction that can still commit an id below h started before h was read; so h is settled
# once no other session of this database has a transaction open since then that wrote (an xid) or runs a statement
# (an INSERT between taking its id and writing its row has no xid yet; so a long read, an export's, holds the
# watermark back until it ends, while the last figures are served). Sessions of other roles show no xact_start
# here: the app's writers share one role. SQLite's one writer commits ids in order.
LATEST_SQL = "SELECT MAX(id), clock_timestamp() FROM response WHERE campaign = $1"
OPEN_BEFORE_SQL = ("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND xact_start <= $1 "
                   "AND (backend_xid IS NOT NULL OR state = 'active')")
SETTLE_TRIES = 5  # 20 ms apart: a citizens' batch insert commits within milliseconds


async def settled_response_id(campaign_id: int, otherwise: int) -> int:
    """The campaign's newest response id below which no response can appear any more, or `otherwise` (the
    caller's watermark: no progress this time) while a transaction that may hold a lower id is still open."""
    from piccolo.engine.sqlite import SQLiteEngine

    engine = FigureCell._meta.db
    if isinstance(engine, SQLiteEngine):
        return await latest_response_id(campaign_id)
    async with engine.pool.acquire() as connection:
        latest, read_at = await connection.fetchrow(LATEST_SQL, campaign_id)
        for _ in range(SETTLE_TRIES):
            if not await connection.fetchval(OPEN_BEFORE_SQL, read_at):  # autocommit: fresh activity each time
                return latest or 0
            await asyncio.sleep(0.02)
    return otherwise


async def _excluded_ids(campaign_id: int) -> list[int]:
    return list(await excluded_ids(campaign_id))


async def fold_again(campaign_id: int) -> None:
    """After `survey weight` (inside its write transaction), or any change to stored responses other than new ones
    and exclusions: the sums are folded again from the start."""
    await FigureState.update({FigureState.through_response: -1}).where(FigureState.campaign == campaign_id)


# The figures of a campaign.

def descendants(units: list[dict]) -> dict[str, set[str]]:
    """Each unit's code → its code and those of every unit below it."""
    by_id = {unit["id"]: unit for unit in units}
    codes = {unit["code"]: {unit["code"]} for unit in units}
    for unit in units:
        parent = unit["parent"]
        while parent is not None and parent in by_id:
            codes[by_id[parent]["code"]].add(unit["code"])
            parent = by_id[parent]["parent"]
    return codes


def figure_set(cells: CampaignCells, units: list[dict]) -> dict:
    """Province, each unit (with the units below, and alone), level and domain: every figure a page may show."""
    answered = {cell.unit for cell in cells.cells}
    below = descendants(units)
    levels_of = {unit["code"]: unit["level"] for unit in units}
    with_below = {code: cells.figure(lambda cell, codes=codes: cell.unit in codes)
                  for code, codes in below.items() if codes & answered and levels_of[code] != "province"}
    alone = {code: cells.figure(lambda cell, code=code: cell.unit == code) for code in sorted(answered)}
    levels = {level: cells.figure(lambda cell, level=level: cell.level == level)
              for level in sorted({cell.level for cell in cells.cells})}
    domains = {domain: cells.figure(lambda cell, domain=domain: cell.domain == domain)
               for domain in sorted({cell.domain for cell in cells.cells})}
    return {"province": cells.figure(), "by": {"unit": with_below, "unit_alone": alone, "level": levels,
                                               "domain": domains},
            "responses": cells.responses, "design": cells.design_note, "scoring": cells.scoring,
            "left_out": cells.left_out, "cells": cells}
