"""DuoMock: start, what it exposes, Duo's client pointed at it with client_kwargs(), the control
API methods, bad scenarios, and stopping (close, with, garbage collection, interpreter exit)."""

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import duo_mock
import pytest
from conftest import admin_for, process_gone, raised, record_pid

FILE_LINE_COLUMN = r":\d+:\d+: "


def test_a_tls_server_exposes_its_ready_file():
    with duo_mock.DuoMock() as fake:
        assert fake.running and fake.tls
        assert fake.scenario == duo_mock.scenario_path("default").resolve()
        assert fake.host == "localhost"
        assert fake.base_url == f"https://localhost:{fake.port}"
        assert 0 < fake.port < 65536
        assert re.fullmatch(r"api-[0-9a-f]{8}\.duosecurity\.com", fake.api_host), fake.api_host
        assert Path(fake.ca_cert).read_text().startswith("-----BEGIN CERTIFICATE-----")
        assert fake.control_url == f"{fake.base_url}/__duo-mock"
        names = [i["name"] for i in fake.integrations]
        assert names[0] == "access-review" and len(names) == len(set(names)) > 1
        first = fake.integrations[0]
        assert (fake.ikey, fake.skey) == (first["ikey"], first["skey"])
        assert "Grant read resource" in first["grants"]
        assert fake.info["port"] == fake.port and fake.proxy_url is None
        assert fake.skey not in repr(fake) and fake.info["control_token"] not in repr(fake)


def test_duo_client_lists_every_user_over_https_with_client_kwargs():
    with duo_mock.DuoMock("default") as fake:
        kwargs = fake.client_kwargs()
        assert kwargs == {"ikey": fake.ikey, "skey": fake.skey, "host": "localhost",
                          "port": fake.port, "ca_certs": fake.ca_cert}
        users = admin_for(fake).get_users()
        assert users == fake.dump()["users"] and len(users) > 300


def test_without_tls_the_client_is_told_to_use_plain_http():
    with duo_mock.DuoMock("users-1", tls=False) as fake:
        assert fake.base_url == f"http://127.0.0.1:{fake.port}" and fake.ca_cert is None
        assert fake.client_kwargs()["ca_certs"] == "HTTP"
        assert len(admin_for(fake).get_users()) == 1


def test_client_kwargs_of_a_named_integration_carry_its_grants():
    with duo_mock.DuoMock() as fake:
        lacking = next(i["name"] for i in fake.integrations
                       if "Grant administrators" not in i["grants"])
        assert admin_for(fake).get_admins()
        assert str(raised(admin_for(fake, lacking).get_admins)) == "Received 403 Access forbidden"
        with pytest.raises(KeyError, match="no integration 'nobody'"):
            fake.client_kwargs("nobody")


def test_a_scenario_file_given_by_path(tmp_path):
    scenario = tmp_path / "mine.toml"
    text = duo_mock.scenario_path("users-1").read_text()
    scenario.write_text(text.replace("users = 1", "users = 3"))
    assert "users = 3" in scenario.read_text()
    with duo_mock.DuoMock(scenario) as fake:
        assert fake.scenario == scenario.resolve()
        assert len(admin_for(fake).get_users()) == 3
    with duo_mock.DuoMock(str(scenario), tls=False) as fake:
        assert len(fake.dump()["users"]) == 3


def test_a_bad_scenario_raises_duo_mock_error_with_file_line_column(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('description = "typo below"\n\n[tenant]\nname = "Acme"\napi_hostname = 42\n')
    with pytest.raises(duo_mock.DuoMockError) as error:
        duo_mock.DuoMock(bad)
    message = str(error.value)
    assert re.match(re.escape(str(bad.resolve())) + FILE_LINE_COLUMN, message), message
    assert ":5:" in message, "api_hostname is on line 5"
    assert error.value.returncode == 2


def test_close_stops_the_process_and_removes_its_files():
    fake = duo_mock.DuoMock()
    pid, ca = fake.pid, Path(fake.ca_cert)
    workdir = ca.parent
    assert ca.is_file() and not process_gone(pid, timeout_s=0)
    fake.close()
    assert process_gone(pid, timeout_s=0), "close() waits for the process"
    assert not workdir.exists() and not fake.running
    fake.close()  # a second close does nothing
    with pytest.raises(duo_mock.DuoMockError, match="did not answer"):
        fake.journal()


def test_leaving_a_with_block_by_an_exception_stops_the_server():
    with pytest.raises(ZeroDivisionError):
        with duo_mock.DuoMock(tls=False) as fake:
            pid = fake.pid
            raise ZeroDivisionError
    assert process_gone(pid, timeout_s=0)


def test_a_server_nobody_references_any_more_is_stopped():
    fake = duo_mock.DuoMock(tls=False)
    pid = fake.pid
    del fake  # CPython frees it at once; the finalizer stops the process group
    assert process_gone(pid)


EXITS = {
    "end of script": "",
    "uncaught exception": "raise RuntimeError('boom')",
    "sys.exit": "import sys; sys.exit(3)",
}


@pytest.mark.parametrize("how", EXITS, ids=list(EXITS))
def test_interpreter_exit_kills_the_process_group(how):
    script = textwrap.dedent(f"""
        import json, duo_mock
        fake = duo_mock.DuoMock("default")
        print(json.dumps({{"pid": fake.pid, "ca": fake.ca_cert}}), flush=True)
        {EXITS[how]}
    """)
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           timeout=120)
    started = json.loads(child.stdout.splitlines()[0])
    record_pid(started["pid"])
    assert process_gone(started["pid"]), "the server outlived the interpreter"
    assert not Path(started["ca"]).parent.exists(), "its files outlived the interpreter"


def test_journal_lists_the_requests_as_dicts():
    with duo_mock.DuoMock() as fake:
        assert fake.journal() == []
        admin_for(fake).get_info_summary()
        entries = fake.journal()
        assert isinstance(entries, list) and len(entries) == 1
        entry = entries[0]
        assert (entry["method"], entry["path"], entry["status"]) == \
            ("GET", "/admin/v1/info/summary", 200)
        assert entry["integration"] == "access-review" and entry["signature"]
        assert fake.skey not in json.dumps(entries)
        fake.clear_journal()
        assert fake.journal() == []


def test_set_clock_offset_moves_the_servers_clock_and_reset_restores_it():
    with duo_mock.DuoMock() as fake:
        admin = admin_for(fake)
        assert admin.get_info_summary()
        moved = fake.set_clock_offset(3600)
        assert moved["offset_s"] == 3600 and fake.clock()["offset_s"] == 3600
        assert str(raised(admin.get_info_summary)) == "Received 401 Bad request timestamp"
        reset = fake.reset()
        assert (reset["status"], reset["users"]) == ("ok", len(fake.dump()["users"]))
        assert reset["scenario"].endswith("default.toml"), reset
        assert fake.clock()["offset_s"] == 0
        assert admin.get_info_summary()
        with pytest.raises(ValueError):
            fake.set_clock_offset(1.5)


def test_reset_undoes_writes():
    with duo_mock.DuoMock("read-write") as fake:
        admin = admin_for(fake)
        before = len(admin.get_users())
        admin.add_user("j.smith+ops")
        assert len(admin.get_users()) == before + 1
        assert fake.reset()["users"] == before
        assert len(admin.get_users()) == before


def test_load_serves_another_scenario_on_the_same_port():
    with duo_mock.DuoMock() as fake:
        port = fake.port
        answer = fake.load("catalogue/d06-missing-grant-read-resource")
        assert answer["status"] == "ok" and fake.port == port
        assert fake.scenario.name == "d06-missing-grant-read-resource.toml"
        assert [i["name"] for i in fake.integrations] == ["customer-connector"]
        assert str(raised(admin_for(fake).get_users)) == "Received 403 Access forbidden"
        assert admin_for(fake).get_admins(), "the grants it has still work"


def test_reset_to_start_returns_to_the_first_scenario_and_its_keys():
    with duo_mock.DuoMock() as fake:
        first = fake.integrations
        fake.load("catalogue/d06-missing-grant-read-resource")
        assert fake.reset()["scenario"] == "<control>", "a plain reset keeps the loaded one"
        assert [i["name"] for i in fake.integrations] == ["customer-connector"]
        answer = fake.reset(to_start=True)
        assert answer["scenario"].endswith("default.toml"), answer
        assert fake.scenario.name == "default.toml" and fake.integrations == first
        assert admin_for(fake).get_users(), "the start scenario's first integration reads users"


def test_loading_a_bad_scenario_names_its_file_and_changes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[tenant]\nname = 'Acme'\nsurprise = true\n")
    with duo_mock.DuoMock() as fake:
        users = len(admin_for(fake).get_users())
        with pytest.raises(duo_mock.DuoMockError) as error:
            fake.load(bad)
        message = str(error.value)
        assert re.match(re.escape(str(bad.resolve())) + FILE_LINE_COLUMN, message), message
        assert "<control>" not in message and error.value.status == 400
        lines = message.splitlines()
        assert len(lines) >= 2, "every mistake at once: api_hostname missing, surprise unknown"
        assert all(re.match(re.escape(str(bad.resolve())) + FILE_LINE_COLUMN, l) for l in lines), lines
        assert fake.scenario.name == "default.toml"
        assert len(admin_for(fake).get_users()) == users


def test_dump_is_the_tenant_as_served():
    with duo_mock.DuoMock("users-301") as fake:
        dump = fake.dump()
        assert {"users", "admins", "groups", "group_members", "integrations"} <= set(dump)
        assert len(dump["users"]) == 301
        assert dump["integrations"] == fake.integrations
