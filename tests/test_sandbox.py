"""The Asterisk sandbox: its configuration (pure), and the real commands on the real root."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from tamas.asterisk import config, sandbox
from tamas.settings import Settings


def test_mirror_comes_from_the_machines_debian_entry_not_the_security_one(
    tmp_path: Path,
) -> None:
    sources = tmp_path / "sources.list.d"
    sources.mkdir()
    (sources / "debian.sources").write_text(
        "Types: deb\n"
        "URIs: http://mirror.example/debian-security\n"
        "Suites: bookworm-security\n"
        "Components: main\n"
        "\n"
        "Types: deb\n"
        "# a comment inside the stanza\n"
        "URIs: http://mirror.example/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\n"
    )
    assert sandbox.debian_mirror(sources, tmp_path / "none") == "http://mirror.example/debian"


def test_mirror_falls_back_to_the_one_line_sources_list(tmp_path: Path) -> None:
    listing = tmp_path / "sources.list"
    listing.write_text(
        "# deb http://old.example/debian bookworm main\n"
        "deb [arch=amd64] http://mirror.example/debian bookworm main\n"
    )
    assert sandbox.debian_mirror(tmp_path, listing) == "http://mirror.example/debian"


def test_no_apt_sources_says_which_setting_to_use(tmp_path: Path) -> None:
    with pytest.raises(sandbox.SandboxError, match="sandbox_mirror"):
        sandbox.debian_mirror(tmp_path, tmp_path / "missing")


def test_only_the_modules_we_use_are_loaded() -> None:
    text = config.modules_conf({"res_agi.so", "app_queue.so", "app_voicemail.so"})
    assert "autoload=no" in text
    assert "load => res_agi.so" in text and "load => app_queue.so" in text
    assert "app_voicemail" not in text


def test_manager_listens_on_loopback_with_the_secret_from_settings() -> None:
    settings = Settings(ami_secret="from-the-settings", ami_username="ops", ami_port=5099)
    text = config.manager_conf(settings)
    assert "bindaddr = 127.0.0.1" in text and "port = 5099" in text
    assert "[ops]\nsecret = from-the-settings\n" in text


def test_dialplan_reaches_fastagi_at_the_configured_address() -> None:
    settings = Settings(fastagi_host="0.0.0.0", fastagi_port=4600)
    text = config.extensions_conf(settings, ["inbound.conf", "ivr.conf"])
    assert "TAMAS_AGI = agi://127.0.0.1:4600" in text
    assert "#include tamas/inbound.conf" in text and "#include tamas/ivr.conf" in text


def test_queue_agents_are_local_channels() -> None:
    text = config.queues_conf()
    assert "[support]" in text
    assert "member => Local/101@tamas-agents/n,0,Agent 101,Local/101@tamas-agents" in text


def test_direct_lines_are_the_main_menus_services_by_key() -> None:
    # ivr/menus.yaml: key 1 claim status ... key 9 callback; key 0 (an agent) has no line.
    lines = sandbox.menu_lines()
    assert lines.direct == {
        "201": "claim_status",
        "202": "branches",
        "203": "shareholders",
        "204": "debts",
        "205": "authenticity",
        "206": "renewal",
        "207": "complaints",
        "208": "centres",
        "209": "callback",
    }
    assert (lines.default_queue, lines.priority_queue) == ("support", "priority")
    text = config.generated_conf(Settings(), lines)
    assert (
        "exten => 201,1,Set(TAMAS_LINE=claim_status)\n same => n,Goto(tamas-ivr-line,s,1)" in text
    )


def test_the_desktop_dials_from_the_context_its_setting_names() -> None:
    text = config.generated_conf(Settings(desktop_context="ops-desk"), config.Lines())
    assert f"[ops-desk]\ninclude => {config.DESKTOP_DIAL_CONTEXT}\n" in text


def test_queues_are_the_ones_the_menus_name() -> None:
    lines = config.Lines(default_queue="general", priority_queue="gold-line")
    queues = config.queues_conf(lines)
    assert "[general]\nstrategy = ringall" in queues
    assert "[gold-line]\nstrategy = rrmemory" in queues
    globals_ = config.extensions_conf(Settings(), ["inbound.conf"], lines)
    assert "TAMAS_DEFAULT_QUEUE = general" in globals_
    assert "TAMAS_PRIORITY_QUEUE = gold-line" in globals_


def test_every_channel_variable_of_the_dialplans_is_named_in_one_module() -> None:
    from tamas.asterisk import variables

    named = {value for key, value in vars(variables).items() if key.isupper()}
    used = {
        found
        for path in sandbox.DIALPLANS.glob("*.conf")
        for found in re.findall(r"TAMAS_[A-Z_]*[A-Z]", path.read_text(encoding="utf-8"))
    }
    assert used - named == set()


def test_without_debootstrap_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH where no debootstrap lives
    settings = Settings(sandbox_dir=tmp_path / "sandbox")
    with pytest.raises(sandbox.SandboxError, match="apt-get install debootstrap"):
        sandbox.build(settings)


def test_asterisk_gone_from_the_archive_is_said_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real debootstrap against the machine's mirror, asked for a package sid does not have.
    monkeypatch.setattr(sandbox, "PACKAGES", ("asterisk-tamas-no-such-package",))
    settings = Settings(sandbox_dir=tmp_path / "sandbox")
    with pytest.raises(sandbox.SandboxError, match="no longer has the package"):
        sandbox.build(settings)
    assert not (tmp_path / "sandbox" / "root").exists()


@pytest.mark.asterisk
def test_up_again_reuses_the_root_and_keeps_asterisk_running(asterisk_sandbox: Settings) -> None:
    root = sandbox.root_dir(asterisk_sandbox)
    marker = root.stat().st_ino
    line = sandbox.up(asterisk_sandbox)
    assert line.startswith("Asterisk 22")
    assert root.stat().st_ino == marker  # not rebuilt
    assert sandbox.ami_answers(asterisk_sandbox)
    modules = sandbox.cli(asterisk_sandbox, "module show like app_voicemail")
    assert "0 modules loaded" in modules


@pytest.mark.asterisk
def test_our_dialplan_and_queues_are_loaded(asterisk_sandbox: Settings) -> None:
    assert "AGI(${TAMAS_AGI}/skeleton)" in sandbox.cli(
        asterisk_sandbox, "dialplan show 100@tamas-inbound"
    )
    assert "Local/101@tamas-agents/n" in sandbox.cli(asterisk_sandbox, "queue show support")
    assert sandbox.sounds_dir(asterisk_sandbox).is_dir()
    # The generated contexts: a direct line, and the desktop's context from settings.
    line = sandbox.cli(asterisk_sandbox, "dialplan show 201@tamas-ivr")
    assert "Set(TAMAS_LINE=claim_status)" in line
    desktop = sandbox.cli(asterisk_sandbox, f"dialplan show {asterisk_sandbox.desktop_context}")
    assert "tamas-desktop-dial" in desktop


@pytest.mark.asterisk
async def test_status_and_cli_commands(asterisk_sandbox: Settings) -> None:
    status, out, _ = await _tamas("sandbox", "status")
    assert status == 0 and "running; Asterisk 22" in out
    status, out, _ = await _tamas("sandbox", "cli", "core", "show", "uptime")
    assert status == 0 and "System uptime" in out


def test_commands_need_root_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # chroot and debootstrap need root; an ordinary user gets the fix, not a traceback.
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    for command in (sandbox.up, sandbox.down):
        with pytest.raises(sandbox.SandboxError, match="need root"):
            command(Settings())


async def _tamas(*argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("tamas")),
        *argv,
        env=dict(os.environ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
