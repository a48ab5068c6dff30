"""Behind a reverse proxy: a real nginx with TLS on loopback in front of `survey serve`. With FORWARDED_ALLOW_IPS
naming the proxy, each citizen is counted apart (the per-client limit); a forged X-Forwarded-For changes nothing."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.app.servers import Server, demo_database, submission
from tests.app.test_dockerfile import free_port
from tests.conftest import require_tool

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONFIG = """
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy; fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {folder}/cert.pem; ssl_certificate_key {folder}/key.pem;
    location / {{
      proxy_pass http://127.0.0.1:{upstream};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
    }}
  }}
}}
"""


def self_signed_certificate(folder: Path) -> None:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
                   check=True, capture_output=True)


def start_nginx(folder: Path, upstream: int) -> tuple[subprocess.Popen, int]:
    require_tool(NGINX, "nginx (Debian package nginx; `make nginx`)")
    require_tool(shutil.which("openssl"), "openssl")
    self_signed_certificate(folder)
    port = free_port()
    (folder / "nginx.conf").write_text(CONFIG.format(folder=folder, port=port, upstream=upstream))
    process = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                               stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            httpx.get(f"https://127.0.0.1:{port}/healthz", verify=False, timeout=1)
            return process, port
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    pytest.fail("nginx did not start: " + (folder / "nginx-error.log").read_text(errors="replace"))


def client_from(address: str) -> httpx.Client:
    """A citizen on its own loopback address (127.0.0.0/8 is all loopback)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address, verify=False), verify=False, timeout=10)


@pytest.fixture
async def proxied(app, settings, tmp_path):
    url = await demo_database(tmp_path, settings.database_url, "proxy")
    server = Server(url, tmp_path, FORWARDED_ALLOW_IPS="127.0.0.1", RATE_LIMIT_PER_CLIENT="2").start()
    nginx, port = start_nginx(tmp_path, server.port)
    try:
        yield server, f"https://127.0.0.1:{port}"
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        server.stop()


def test_through_nginx_each_client_has_its_own_limit_and_forged_addresses_do_not_help(proxied):
    import random

    server, base = proxied
    path, rng = server.form_path(), random.Random(7)
    with client_from("127.0.0.2") as first, client_from("127.0.0.3") as second:
        forged = {"X-Forwarded-For": "198.51.100.1"}  # nginx replaces it with the real address
        first_statuses = [first.post(base + path, data=submission("px", rng), headers=forged).status_code
                          for _ in range(3)]
        second_status = second.post(base + path, data=submission("px", rng)).status_code
    assert first_statuses == [303, 303, 429], server.log()
    assert second_status == 303  # another citizen behind the same proxy is not refused
