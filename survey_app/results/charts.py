"""Dashboard charts drawn with matplotlib as SVG, returned as data: URIs (the CSP allows img data:).

Charts are drawn in worker threads (asyncio.to_thread), so they use matplotlib's object API (Figure, no pyplot
and its global figure list or GUI backend), and DRAWING lets one chart be drawn at a time: matplotlib does not
promise thread safety even for separate figures. The report's charts take the same lock.
"""

from __future__ import annotations

import base64
import io
import threading

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "sipas", "font.size": 9,
                            "axes.spines.top": False, "axes.spines.right": False})
DRAWING = threading.Lock()
RATING_COLOURS = ("#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac")


def svg_data_uri(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue().encode()).decode()


def ranking_chart(units: list[dict], target: float | None) -> str | None:
    """Each unit's overall index with its 95 % CI, highest first; the target as a dashed line."""
    shown = [unit for unit in units if not unit["suppressed"] and unit["index"]["overall"] is not None]
    if not shown:
        return None
    shown = shown[::-1]  # matplotlib draws the first row at the bottom
    values = [unit["index"]["overall"] for unit in shown]
    figure = Figure(figsize=(7, 0.22 * len(shown) + 1))
    axes = figure.subplots()
    axes.errorbar(values, range(len(shown)), fmt="o",
                  xerr=error_bars(values, [unit["index"]["ci_low"] for unit in shown],
                                  [unit["index"]["ci_high"] for unit in shown]), color="#0b5394",
                  ecolor="#9fc5e8", markersize=4, capsize=2)
    axes.set_yticks(range(len(shown)), [_short(unit["name"], 34) for unit in shown])  # names: codes mean little
    if target is not None:
        axes.axvline(target, color="#b45f06", linestyle="--", linewidth=1, label=f"Mục tiêu {target:g} %")
        axes.legend(loc="lower right", frameon=False)
    axes.set_xlim(0, 100)
    axes.set_xlabel("Chỉ số hài lòng (%) và khoảng tin cậy 95 %")
    return svg_data_uri(figure)


def error_bars(values: list, lows: list, highs: list) -> np.ndarray:
    """matplotlib's xerr (2 × n: below, above) from CI bounds; a missing bound draws no bar, and a bound on the
    wrong side of its value (rounding) draws none rather than a negative bar, which matplotlib refuses."""
    values = np.array(values, dtype=float)
    lows = np.array([value if low is None else low for low, value in zip(lows, values)], dtype=float)
    highs = np.array([value if high is None else high for high, value in zip(highs, values)], dtype=float)
    return np.clip(np.vstack([values - lows, highs - values]), 0.0, None)


def rating_shares(frame: pd.DataFrame, scoring: dict) -> pd.DataFrame:
    """Per factor, the share of valid answers rated 1…5 (unweighted counts of answers)."""
    shares = {}
    for factor in scoring["factors"]:
        items = [item for criterion in factor["criteria"] for item in criterion["items"] if item in frame]
        values = frame[items].to_numpy().ravel()
        values = values[~np.isnan(values)]
        counts = np.array([(values == rating).sum() for rating in range(1, 6)], dtype=float)
        shares[factor.get("label", {}).get("vi", factor["key"])] = counts / counts.sum() * 100 if counts.sum() else counts
    return pd.DataFrame(shares, index=range(1, 6)).T


def distribution_chart(frame: pd.DataFrame, scoring: dict) -> str | None:
    """Stacked bars: how answers of each factor spread over ratings 1 (very dissatisfied) … 5 (very satisfied)."""
    shares = rating_shares(frame, scoring)
    if shares.empty:
        return None
    figure = Figure(figsize=(7, 0.35 * len(shares) + 1.2))
    axes = figure.subplots()
    left = np.zeros(len(shares))
    for rating, colour in zip(range(1, 6), RATING_COLOURS):
        bars = axes.barh(range(len(shares)), shares[rating], left=left, color=colour, label=str(rating))
        # each segment's share written on it (a segment under 6 % has no room); white on the dark ends
        axes.bar_label(bars, labels=[f"{share:.0f}" if share >= 6 else "" for share in shares[rating]],
                       label_type="center", fontsize=7, color="#ffffff" if rating in (1, 5) else "#1a1a1a")
        left += shares[rating].to_numpy()
    axes.set_yticks(range(len(shares)), [_short(name) for name in shares.index])
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("Tỷ lệ câu trả lời theo mức 1 (rất không hài lòng) … 5 (rất hài lòng), %")
    axes.legend(ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False)
    return svg_data_uri(figure)


def _short(text: str, width: int = 42) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
