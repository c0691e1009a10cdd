"""``blocks server run`` as a real process serves the UI (templates and static files from the
installed package) and announces its address."""

from __future__ import annotations

import re
from pathlib import Path

from blocks import Secret
from tests.server_process import init_server, remote_registry, server_env, start_server


def test_blocks_server_run_serves_the_ui_and_prints_its_address(tmp_path: Path) -> None:
    env = server_env(home=str(tmp_path / "home"))
    token = init_server(env)
    with start_server(env, tmp_path / "srv") as server:
        assert f"web UI at {server.url}/ui" in server.stderr()
        client = remote_registry(server.url, token)
        client.save(Secret(value="wJalr-process"), "from-python")
        with server.client(None) as http:
            own = {"origin": server.url}
            signed = http.post("/ui/sign-in", data={"token": token}, headers=own)
            assert signed.status_code == 303 and signed.headers["location"] == "/ui/blocks"
            listed = http.get("/ui/blocks")
            assert listed.status_code == 200 and "from-python" in listed.text
            page = http.get("/ui/blocks/secret/from-python")
            assert page.status_code == 200 and "wJalr-process" not in page.text
            assert http.get("/ui/static/ui.css").status_code == 200
            assert http.get("/ui/static/ui.js").status_code == 200
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None
            shown = http.post("/ui/blocks/secret/from-python/reveal", headers={
                **own, "accept": "application/json"}, data={"csrf": csrf.group(1),
                                                            "field": "value"})
            assert shown.json()["value"] == "wJalr-process"
    assert "wJalr-process" not in server.stdout() + server.stderr()
    assert token not in server.stdout() + server.stderr()
    routes = {e["route"] for e in server.access_log() if e["principal"]}
    assert "/blocks/{slug}/{name}/reveal" in routes
