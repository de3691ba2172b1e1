"""Edits from the dashboard: only with `autotrack ui --allow-edit`, only from its own pages (a request
without the page's token, or from another site, is refused), read back with `autotrack show`."""

from __future__ import annotations

import http.server
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from ui_helpers import Dashboard, autotrack_cli

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def editable(trained_store, tmp_path_factory):
    store = tmp_path_factory.mktemp("editable") / "store"
    shutil.copytree(trained_store, store)
    server = Dashboard(store, "--allow-edit")
    yield server, store
    server.stop()


def post(url: str, fields: dict, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=urlencode(fields).encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def a_forest(store) -> dict:
    return next(run for run in autotrack_cli(store, "runs", "--json", "--limit", "0")
                if run["name"].startswith("RandomForestClassifier") and run["parent_id"] is None)


def test_tags_a_note_and_a_deletion_made_on_the_page_reach_the_store(editable, page):
    server, store = editable
    run = a_forest(store)
    page.goto(server.url + f"runs/{run['id']}")
    assert page.locator("#mode").inner_text() == "editing allowed (--allow-edit)"
    page.fill('#tag-form input[name="key"]', "team")
    page.fill('#tag-form input[name="value"]', "vision <b>")
    page.click('#tag-form button')
    page.wait_for_url(re.compile(r"#tags$"))
    assert autotrack_cli(store, "show", run["id"], "--json")["tags"]["team"] == "vision <b>"
    assert "vision <b>" in page.locator("#tags-table").inner_text()
    page.fill("#note-form textarea", "the deeper forest overfits")
    page.click("#note-form button")
    page.wait_for_url(re.compile(r"#note$"))
    assert page.locator("#note-text").inner_text() == "the deeper forest overfits"
    assert autotrack_cli(store, "show", run["id"], "--json")["tags"]["autotrack.note"] == "the deeper forest overfits"
    page.locator('#tags-table tr:has(th:text-is("team")) button.remove-tag').click()
    page.wait_for_url(re.compile(r"#tags$"))
    assert "team" not in autotrack_cli(store, "show", run["id"], "--json")["tags"]
    page.fill('#tag-form input[name="key"]', "autotrack.mine")
    page.click('#tag-form button')
    assert "autotrack's own" in page.locator("body").inner_text()  # refused, said, nothing changed
    page.goto(server.url + f"runs/{run['id']}")
    page.click("#delete-form button")
    page.wait_for_url(re.compile(r"/\?deleted=1$"))
    assert "Moved 1 run(s) to the trash" in page.locator("#deleted-notice").inner_text()
    assert run["id"] not in {listed["id"] for listed in autotrack_cli(store, "runs", "--json", "--limit", "0")}
    assert run["id"] in {trashed["id"] for trashed in autotrack_cli(store, "trash", "--json")}


def test_an_edit_without_the_pages_token_or_from_another_site_is_refused(editable, page):
    server, store = editable
    run = a_forest(store)
    url = server.url + f"runs/{run['id']}/tags"
    page.goto(server.url + f"runs/{run['id']}")
    token = page.locator('#tag-form input[name="csrf"]').input_value()
    assert post(url, {"key": "a", "value": "1"})[0] == 403  # no token
    assert post(url, {"key": "a", "value": "1", "csrf": "guessed"})[0] == 403
    status, body = post(url, {"key": "a", "value": "1", "csrf": token}, {"Origin": "http://evil.example"})
    assert status == 403 and "another site" in body
    assert post(url, {"key": "a", "value": "1", "csrf": token}, {"Sec-Fetch-Site": "cross-site"})[0] == 403
    assert "a" not in autotrack_cli(store, "show", run["id"], "--json")["tags"]
    assert post(url, {"key": "a", "value": "1", "csrf": token})[0] == 200  # its own page's form: done
    assert autotrack_cli(store, "show", run["id"], "--json")["tags"]["a"] == "1"
    # A page served by another server (another origin) that posts a form to the dashboard, even with
    # a stolen token: the browser says where the request comes from.
    attack = (f'<form method="post" action="{url}"><input name="key" value="b"><input name="value" value="2">'
              f'<input name="csrf" value="{token}"></form>').encode()

    class Attacker(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(attack)

        def log_message(self, *args):
            pass

    other = http.server.HTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{other.server_address[1]}/")
        with page.expect_navigation():
            page.evaluate("document.forms[0].submit()")
        assert "another site" in page.locator("body").inner_text()
    finally:
        other.shutdown()
    assert "b" not in autotrack_cli(store, "show", run["id"], "--json")["tags"]


def test_the_default_dashboard_is_read_only(dashboard, page, listed_runs, trained_store):
    run = listed_runs[0]
    page.goto(dashboard.url + f"runs/{run['id']}")
    assert page.locator("#mode").inner_text() == "read-only"
    assert page.locator("#tag-form, #note-form, #delete-form").count() == 0
    status, body = post(dashboard.url + f"runs/{run['id']}/delete", {"csrf": ""})
    assert status == 403 and "--allow-edit" in body
    refused = subprocess.run([sys.executable, "-m", "autotrack", "ui", "--host", "0.0.0.0", "--allow-remote",
                              "--allow-edit", "--no-browser", "--store", str(trained_store)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "this machine only" in refused.stderr
