"""Uploads that expand (issue #17): how long each takes to answer, and how long a /healthz asked every 20 ms waits
meanwhile on the same worker (the event loop is blocked when an upload is parsed on it).

In process (the app through httpx's ASGI transport, a fresh SQLite database with the demo province), so it
measures the app, not the network. Bounded: every request gives up after --timeout seconds.
Run it on this tree and, for the figures before the fix, on another checkout with PYTHONPATH pointing there:
    PYTHONPATH=. .venv/bin/python benchmarks/upload_bombs.py
Prints a table and writes JSON to benchmarks/results/upload_bombs.json (with --save).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import tempfile
import time
import zipfile
from pathlib import Path

import httpx
from openpyxl import Workbook

RESULTS = Path(__file__).parent / "results" / "upload_bombs.json"
ALIAS_BOMB = ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(  # 10^6 values once expanded
    f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]\n" for previous, name in zip("abcde", "bcdef"))).encode()


def workbook(*rows: tuple) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def declaring(data: bytes, reference: bytes) -> bytes:
    """The same workbook whose sheet declares (and has a cell at) `reference`: openpyxl pads every row to that
    width and fills in every row up to it."""
    cell = b'<row r="' + re.sub(rb"\D", b"", reference) + b'"><c r="' + reference + b'" t="n"><v>1</v></c></row>'
    source, buffer = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            body = source.read(entry.filename)
            if entry.filename.startswith("xl/worksheets/"):
                body = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:' + reference + b'"', body)
                body = body.replace(b"</sheetData>", cell + b"</sheetData>")
            target.writestr(entry.filename, body)
    return buffer.getvalue()


def dense(data: bytes, rows: int, columns: int) -> bytes:
    """The workbook's sheet replaced by `rows` x `columns` cells of one shared string: megabytes of XML that
    compress to a few kilobytes (the 23 KB XLSForm of the review expanded to 5 MB)."""
    row = b"<row>" + b'<c t="s"><v>0</v></c>' * columns + b"</row>"
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><sheetData>' + row * rows + b"</sheetData></worksheet>")
    shared = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
              b'2006/main" count="1" uniqueCount="1"><si><t>x</t></si></sst>')
    source, buffer = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    names = source.namelist()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in names:
            body = sheet if name.startswith("xl/worksheets/sheet") else source.read(name)
            if name == "[Content_Types].xml" and b"sharedStrings" not in body:
                body = body.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            if name == "xl/_rels/workbook.xml.rels" and b"sharedStrings" not in body:
                body = body.replace(b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats'
                                    b'.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                                    b"</Relationships>")
            target.writestr(name, body)
        if "xl/sharedStrings.xml" not in names:
            target.writestr("xl/sharedStrings.xml", shared)
    return buffer.getvalue()


def cases() -> dict[str, tuple[str, str, bytes]]:
    """name → (upload path, file name, bytes)."""
    xlsform = workbook(("type", "name", "label"), ("text", "q1", "Câu 1"))
    units = workbook(("code", "name", "name_en", "level", "parent_code"), ("X1", "Xã Một", "", "xa", "H01"))
    return {
        "XLSForm of 25,000 x 10 cells (5 MB of XML)": ("/admin/questionnaires", "form.xlsx",
                                                       dense(xlsform, 25_000, 10)),
        "XLSForm declaring CV20000 (100 columns x 20,000 rows)": (
            "/admin/questionnaires", "form.xlsx", declaring(xlsform, b"CV20000")),
        "unit XLSX declaring AX8000 (50 x 8,000)": ("/admin/units/import", "units.xlsx", declaring(units, b"AX8000")),
        "unit XLSX of 7,000 real rows (within every cap)": (
            "/admin/units/import", "units.xlsx", workbook(("code", "name", "name_en", "level", "parent_code"),
                                                          *[("X",) * 5] * 7000)),
        "YAML alias bomb (10^6 values)": ("/admin/questionnaires", "bomb.yaml", ALIAS_BOMB),
    }


async def measure(admin: httpx.AsyncClient, probe: httpx.AsyncClient, path: str, name: str, data: bytes,
                  timeout: float) -> dict:
    page = await admin.get(path if path != "/admin/units/import" else "/admin/units")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    started = time.perf_counter()
    upload = asyncio.ensure_future(admin.post(path, data={"_csrf_token": token}, files={"file": (name, data)},
                                              timeout=timeout))
    waits, last = [], time.perf_counter()
    while not upload.done():  # a /healthz every 20 ms: the longest stretch between two answers
        await asyncio.sleep(0.02)
        await probe.get("/healthz", timeout=timeout)
        waits.append(time.perf_counter() - last)
        last = time.perf_counter()
    try:
        status = (await upload).status_code
    except httpx.TimeoutException:
        status = "timeout"
    return {"bytes": len(data), "status": status, "seconds": round(time.perf_counter() - started, 2),
            "longest_healthz_gap": round(max(waits, default=0.0), 3), "healthz_asked": len(waits)}


async def run(timeout: float) -> dict:
    from survey_app.app import create_app
    from survey_app.campaigns.demo import DEMO_PASSWORD, load_demo
    from survey_app.core import db
    from survey_app.core.settings import Settings

    folder = tempfile.mkdtemp(prefix="upload-bombs-")
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{folder}/bench.db", "SECRET_KEY": "bench"})
    app = create_app(settings)
    for hook in app.on_startup:
        await hook(app)
    await db.migrate()
    await load_demo(per_unit=1)
    results = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as admin, \
            httpx.AsyncClient(transport=transport, base_url="http://t") as probe:
        page = await admin.get("/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        await admin.post("/login", data={"username": "admin", "password": DEMO_PASSWORD, "_csrf_token": token,
                                         "next": "/staff"})
        for label, (path, name, data) in cases().items():
            results[label] = await measure(admin, probe, path, name, data, timeout)
            print(f"{label:<52} {results[label]}", flush=True)
    for hook in app.on_shutdown:
        await hook(app)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a request is given up")
    parser.add_argument("--save", metavar="LABEL", help="store the figures under this label in the JSON file")
    options = parser.parse_args()
    results = asyncio.run(run(options.timeout))
    if options.save:
        stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        stored[options.save] = results
        RESULTS.write_text(json.dumps(stored, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
