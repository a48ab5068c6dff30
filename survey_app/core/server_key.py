"""The server's key, recognised wherever a command runs. Codes and posters are keyed with SECRET_KEY; a command run
from another folder once made itself a new var/secret_key and printed codes the server then refused. The database
keeps a fingerprint of the key (an HMAC of a fixed text, which does not reveal the key): the server records it, and
every command that signs or hashes refuses to run with another key."""

from __future__ import annotations

import hashlib
import hmac

from survey_app.core import db
from survey_app.core.tables import ServerKey


class KeyMismatch(Exception):
    def __init__(self):
        self.message_vi = ("SECRET_KEY của lệnh này khác khóa của máy chủ dùng cơ sở dữ liệu này: mã mời và áp phích "
                           "in ra sẽ bị máy chủ từ chối, nên không làm gì cả. Chạy lệnh trong thư mục của máy chủ, "
                           "hoặc đặt biến SECRET_KEY giống máy chủ.")
        self.message_en = ("this command's SECRET_KEY differs from the key of the server using this database: the "
                           "codes and posters it printed would be refused, so nothing was done. Run it in the "
                           "server's folder, or set SECRET_KEY to the server's.")
        super().__init__(self.message_en)


def fingerprint(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"sipas server key fingerprint", hashlib.sha256).hexdigest()


async def remember(secret_key: str) -> str:
    """Record the key's fingerprint once (the first server or command to run); the one recorded."""
    row = await ServerKey.select(ServerKey.fingerprint).first()
    if row is not None:
        return row["fingerprint"]
    async with db.write_transaction():
        await ServerKey.insert(ServerKey(fingerprint=fingerprint(secret_key)))
    return fingerprint(secret_key)


async def require_server_key(secret_key: str) -> None:
    """Refuse (KeyMismatch) when the database belongs to a server with another key."""
    if not hmac.compare_digest(await remember(secret_key), fingerprint(secret_key)):
        raise KeyMismatch()
