"""What officials' invitations cost: reading the address file, the message file for Zalo/SMS, and e-mailing every
sampled official through a real SMTP server on loopback (aiosmtpd; a province's relay adds its own network time).

Draws `--units` sở × 2 roles × `--per-role` officials (quota `--drawn` per role) on a fresh SQLite database, then
times each step for the whole sample and prints a table; writes JSON to benchmarks/results/invitations.json.

Usage: PYTHONPATH=. .venv/bin/python benchmarks/invitations.py [--units 20] [--per-role 30] [--drawn 25]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import io
import json
import platform
import socket
import tempfile
import time
from dataclasses import replace
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "invitations.json"


class Counting:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def address_file(ids: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["staff_id", "email", "Họ tên", "Điện thoại"])
    writer.writerows((staff_id, f"{staff_id.lower()}@bench.example.vn", f"Cán bộ {staff_id}", f"09{n:08d}")
                     for n, staff_id in enumerate(ids))
    return buffer.getvalue().encode("utf-8-sig")


async def run(folder: Path, units: int, per_role: int, drawn: int) -> dict:
    from aiosmtpd.controller import Controller

    from survey_app.app import create_app
    from survey_app.campaigns.catalog import register_shipped
    from survey_app.campaigns.demo import load_demo
    from survey_app.core import db
    from survey_app.core.settings import Settings, SmtpSettings
    from survey_app.core.tables import Campaign
    from survey_app.officials import draws, invitations

    mailbox, port = Counting(), free_port()
    smtp_server = Controller(mailbox, hostname="127.0.0.1", port=port)
    smtp_server.start()
    settings = replace(Settings.from_env({"DATABASE_URL": f"sqlite:///{folder / 'survey.db'}", "SECRET_KEY": "bench"}),
                       smtp=SmtpSettings(host="127.0.0.1", port=port, security="none", sender="bench@example.vn"))
    application = create_app(settings)
    try:
        async with application.lifespan():
            await db.migrate()
            await load_demo(per_unit=0)
            questionnaires = await register_shipped()
            today = dt.date.today()
            await Campaign.insert(Campaign(code="BENCH", name="bench", questionnaire=questionnaires["par_index_so"],
                                           starts_on=today, ends_on=today + dt.timedelta(days=30),
                                           mode="invitation", status="open"))
            ids = [f"SO{unit:02d}-{role}-{number}" for unit in range(1, units + 1)
                   for role in ("lanh_dao_phong", "cong_chuc") for number in range(per_role)]
            frame = folder / "frame.csv"
            frame.write_text("unit,role,staff_id\n" + "\n".join(f"{i.split('-')[0]},{i.split('-')[1]},{i}" for i in ids))
            await draws.draw_and_store(settings.secret_key, "BENCH", frame, None,
                                       [f"lanh_dao_phong={drawn}", f"cong_chuc={drawn}"], seed=1)
            content = address_file(ids)

            started = time.perf_counter()
            uploaded = await asyncio.to_thread(invitations.read_address_file, settings.secret_key, "a.csv", content)
            planned = await invitations.plan("BENCH", uploaded, need_email=True)
            read_seconds = time.perf_counter() - started

            started = time.perf_counter()
            message_file = await invitations.message_file(settings, "invitation", planned)
            file_seconds = time.perf_counter() - started

            started = time.perf_counter()
            send_id = await invitations.queue_sending(settings, "invitation", planned, "bench")
            await invitations.sending_engine().run_until_idle()
            send_seconds = time.perf_counter() - started
            sent = await invitations.InvitationSend.select().where(invitations.InvitationSend.id == send_id).first()
    finally:
        smtp_server.stop()
    recipients = len(planned.recipients)
    return {"file_rows": len(ids), "recipients": recipients, "read_and_match_seconds": round(read_seconds, 3),
            "message_file_seconds": round(file_seconds, 3), "message_file_bytes": len(message_file),
            "email_seconds": round(send_seconds, 3), "letters_per_second": round(recipients / send_seconds, 1),
            "sent": sent["sent"], "failed": sent["failed"], "received_by_smtp_server": mailbox.count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--per-role", type=int, default=30)
    parser.add_argument("--drawn", type=int, default=25)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = asyncio.run(run(Path(folder), options.units, options.per_role, options.drawn))
    result["machine"] = f"{platform.machine()}, {platform.python_version()}"
    for key, value in result.items():
        print(f"{key:28} {value}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
