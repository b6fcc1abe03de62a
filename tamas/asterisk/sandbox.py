"""`tamas sandbox up | down | status | cli`: a real Asterisk 22 for development and tests.

Debian 12 has no Asterisk; Debian sid has. So the sandbox is a Debian sid root made with
debootstrap under `settings.sandbox_dir` and run with chroot; it shares the host's network,
and Tamas's processes stay on the host and talk to it over loopback (AMI, FastAGI). The root
is built once and reused; `up` then only writes our configuration and (re)starts Asterisk.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from tamas.asterisk import config
from tamas.settings import SANDBOX_SOUNDS, Settings

log = logging.getLogger(__name__)

REPOSITORY = Path(__file__).resolve().parents[2]
DIALPLANS = REPOSITORY / "dialplans"
ASTERISK_CONF_EXAMPLE = REPOSITORY / "asterisk.conf.example"

SUITE = "sid"
# python3 lets process AGI (agi_scripts/process_agi.py) run inside the root.
PACKAGES = ("asterisk", "asterisk-modules", "asterisk-core-sounds-en-gsm", "python3")
OWNED_BY_ASTERISK = (
    "etc/asterisk",
    "var/lib/asterisk",
    "var/log/asterisk",
    "var/spool/asterisk",
    "run/asterisk",
    "var/cache/asterisk",
)
AMI_WAIT_S = 30.0


class SandboxError(Exception):
    """The sandbox cannot be built or started; the message says why and what to do."""


# ---------------------------------------------------------------- paths others use


def root_dir(settings: Settings) -> Path:
    return settings.sandbox_dir.resolve() / "root"


def sounds_dir(settings: Settings) -> Path:
    """Host path of the folder Asterisk plays `tamas/<name>` from (8 kHz mono wav/sln/gsm).

    Files put here (e.g. by prompts/) are heard with `Playback(tamas/<name>)` or
    `stream_file("tamas/<name>")` over AGI; a language subfolder `tamas/fa/...` works too. With
    no `sounds_dir` setting, Tamas writes its sounds here once the sandbox is built.
    """
    return root_dir(settings) / SANDBOX_SOUNDS


def build_log(settings: Settings) -> Path:
    return settings.sandbox_dir.resolve() / "debootstrap.log"


def asterisk_log(settings: Settings) -> Path:
    return root_dir(settings) / "var/log/asterisk/messages"


# ---------------------------------------------------------------- building the root


def debian_mirror(
    sources_dir: Path = Path("/etc/apt/sources.list.d"),
    sources_list: Path = Path("/etc/apt/sources.list"),
) -> str:
    """The Debian archive this machine already uses, so no host name lives in the repo."""
    for path in sorted(sources_dir.glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text(encoding="utf-8", errors="replace")):
            fields = _deb822(stanza)
            types = fields.get("types", "").split()
            suites = fields.get("suites", "").split()
            if "deb" not in types or any("security" in suite for suite in suites):
                continue
            for uri in fields.get("uris", "").split():
                if "security" not in uri:
                    return uri
    if sources_list.exists():
        for line in sources_list.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split("#", 1)[0].split()
            if len(parts) >= 3 and parts[0] == "deb":
                uri = next((p for p in parts[1:] if not p.startswith("[")), "")
                if uri and "security" not in uri and "]" not in uri:
                    return uri
    raise SandboxError(
        "found no Debian archive in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; "
        "set the setting sandbox_mirror (TAMAS_SANDBOX_MIRROR) to a Debian mirror URL"
    )


def _deb822(stanza: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = ""
    for line in stanza.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t" and key:
            fields[key] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            fields[key] = value.strip()
    return fields


def is_built(settings: Settings) -> bool:
    return (root_dir(settings) / "usr/sbin/asterisk").exists()


def build(settings: Settings) -> None:
    """Make the sid root with Asterisk once. Builds into `root.partial` and renames it at the
    end, so an interrupted build is simply started over on the next `up`."""
    if is_built(settings):
        return
    _require_root("build the sandbox")
    if shutil.which("debootstrap") is None:
        raise SandboxError(
            "debootstrap is not installed; install it with: apt-get install debootstrap"
        )
    mirror = settings.sandbox_mirror or debian_mirror()
    base = settings.sandbox_dir.resolve()
    partial = base / "root.partial"
    base.mkdir(parents=True, exist_ok=True)
    if partial.exists():
        log.info("removing an unfinished build at %s", partial)
        shutil.rmtree(partial)
    logfile = build_log(settings)
    command = [
        "debootstrap",
        "--variant=minbase",
        "--include=" + ",".join(PACKAGES),
        SUITE,
        str(partial),
        mirror,
    ]
    print(f"sandbox: building a Debian {SUITE} root with Asterisk (about a minute; log: {logfile})")
    with logfile.open("w") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        text = logfile.read_text(encoding="utf-8", errors="replace")
        missing = re.search(r"Couldn't find these debs: (.*)", text)
        if missing and "asterisk" in missing.group(1):
            packages = missing.group(1).strip()
            raise SandboxError(
                f"Debian {SUITE} at {mirror} no longer has the package(s) {packages}; "
                "Asterisk may have left the archive: check https://tracker.debian.org/asterisk "
                "and change SUITE/PACKAGES in tamas/asterisk/sandbox.py"
            )
        raise SandboxError(f"debootstrap failed (exit {result.returncode}); see {logfile}")
    partial.rename(root_dir(settings))


def _require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise SandboxError(f"need root to {what} (chroot and debootstrap): run it with sudo")


# ---------------------------------------------------------------- configuration


def dialplan_files() -> list[str]:
    return sorted(path.name for path in DIALPLANS.glob("*.conf"))


def menu_lines() -> config.Lines:
    """The queues and the main menu's direct lines, from the menus (ivr/menus.yaml)."""
    from ivr import definitions

    book = definitions.load()
    main = book.menu(book.entry)
    return config.Lines(
        default_queue=book.queues.default,
        priority_queue=book.queues.priority,
        direct=config.direct_lines({option.key: option.service for option in main.options}),
    )


def write_config(settings: Settings) -> None:
    """Write our configuration over the stock one. Every `up` rewrites it, so settings and
    dialplans/ changes reach Asterisk by running `up` again."""
    root = root_dir(settings)
    etc = root / "etc/asterisk"
    modules_dir = _modules_dir(root)
    available = {p.name for p in modules_dir.glob("*.so")} if modules_dir else None
    lines = menu_lines()
    included = [*dialplan_files(), config.GENERATED_DIALPLAN]
    files = {
        "asterisk.conf": ASTERISK_CONF_EXAMPLE.read_text(encoding="utf-8"),
        "modules.conf": config.modules_conf(available, settings),
        "manager.conf": config.manager_conf(settings),
        "extensions.conf": config.extensions_conf(settings, included, lines),
        "queues.conf": config.queues_conf(lines),
        "logger.conf": config.logger_conf(),
        "musiconhold.conf": config.musiconhold_conf(),
        "cdr.conf": config.cdr_conf(),
        "cdr_manager.conf": config.cdr_conf(),
        "cel.conf": config.cel_conf(),
        **config.records_to_postgresql(settings),
    }
    for name, text in files.items():
        _write(etc / name, text, 0o640)
    # CEL/CDR into PostgreSQL only while the database is PostgreSQL: no stale connection left.
    for name in ("cel_pgsql.conf", "cdr_pgsql.conf"):
        if name not in files:
            (etc / name).unlink(missing_ok=True)
    # Stock files that make modules we load log warnings (users.conf is deprecated).
    (etc / "users.conf").unlink(missing_ok=True)
    # manager.d holds stock snippets we do not want included.
    manager_d = etc / "manager.d"
    if manager_d.is_dir():
        for snippet in manager_d.glob("*.conf"):
            snippet.unlink()
    tamas_etc = etc / "tamas"
    tamas_etc.mkdir(exist_ok=True)
    for old in tamas_etc.glob("*.conf"):
        if old.name not in included:
            old.unlink()
    for name in dialplan_files():
        _write(tamas_etc / name, (DIALPLANS / name).read_text(encoding="utf-8"), 0o640)
    _write(tamas_etc / config.GENERATED_DIALPLAN, config.generated_conf(settings, lines), 0o640)
    sounds_dir(settings).mkdir(parents=True, exist_ok=True)
    moh = root / "var/lib/asterisk/moh"
    moh.mkdir(parents=True, exist_ok=True)
    hold_sound = next(iter(sorted(root.glob("usr/share/asterisk/sounds/*/beep.gsm"))), None)
    if hold_sound is not None and not (moh / "beep.gsm").exists():
        shutil.copyfile(hold_sound, moh / "beep.gsm")
    (root / "run/asterisk").mkdir(parents=True, exist_ok=True)
    install_process_agi(settings)
    _chown_to_asterisk(root)


PROCESS_AGI_DIR = "opt/tamas"
# What the root's python3 imports for process AGI, beside pyst2.
PROCESS_AGI_MODULES = (
    "agi_scripts/__init__.py",
    "agi_scripts/channel.py",
    "agi_scripts/process_agi.py",
    # The channel variables' names, and the packages around them (docstrings only).
    "tamas/__init__.py",
    "tamas/asterisk/__init__.py",
    "tamas/asterisk/variables.py",
)


def install_process_agi(settings: Settings) -> None:
    """Copy the process-AGI script, the modules it imports and pyst2 into ROOT/opt/tamas, so
    the root's own python3 runs `AGI(/opt/tamas/agi_scripts/process_agi.py,ROUTE)`. Only the
    standard library and pyst2 are needed there; the FastAGI server stays on the host."""
    import asterisk as pyst2
    import six

    target = root_dir(settings) / PROCESS_AGI_DIR
    for name in PROCESS_AGI_MODULES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        mode = 0o755 if name.endswith("process_agi.py") else 0o644
        _write(target / name, (REPOSITORY / name).read_text(encoding="utf-8"), mode)
    package = Path(pyst2.__file__).parent
    (target / "asterisk").mkdir(exist_ok=True)
    for source in package.glob("*.py"):
        _write(target / "asterisk" / source.name, source.read_text(encoding="utf-8"), 0o644)
    _write(target / "six.py", Path(six.__file__).read_text(encoding="utf-8"), 0o644)
    folders = {(target / name).parent for name in PROCESS_AGI_MODULES}
    for directory in {target, target / "asterisk", *folders}:
        directory.chmod(0o755)


def _modules_dir(root: Path) -> Path | None:
    found = sorted(root.glob("usr/lib/*/asterisk/modules"))
    return found[0] if found else None


def _write(path: Path, text: str, mode: int) -> None:
    if path.exists() and path.read_text(encoding="utf-8", errors="replace") == text:
        return
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(mode)
    tmp.replace(path)


def _asterisk_ids(root: Path) -> tuple[int, int]:
    for line in (root / "etc/passwd").read_text().splitlines():
        parts = line.split(":")
        if parts[0] == "asterisk":
            return int(parts[2]), int(parts[3])
    raise SandboxError(f"the sandbox root {root} has no asterisk user; remove it and run up again")


def _chown_to_asterisk(root: Path) -> None:
    # Asterisk runs as the root's own asterisk user (with -U root it drops capabilities and
    # cannot read its config), so everything it reads or writes must belong to that user.
    uid, gid = _asterisk_ids(root)
    for relative in (*OWNED_BY_ASTERISK, SANDBOX_SOUNDS):
        top = root / relative
        if not top.exists():
            continue
        for path in _walk(top):
            with contextlib.suppress(FileNotFoundError):
                os.lchown(path, uid, gid)


def _walk(top: Path) -> Iterable[Path]:
    yield top
    for dirpath, dirnames, filenames in os.walk(top):
        for name in (*dirnames, *filenames):
            yield Path(dirpath) / name


# ---------------------------------------------------------------- running


def _chroot(
    settings: Settings, *command: str, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chroot", str(root_dir(settings)), *command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def cli(settings: Settings, command: str, timeout: float = 30.0) -> str:
    """Run an Asterisk CLI command (`asterisk -rx`) and return its output."""
    _require_root("talk to the sandbox's Asterisk")
    if not is_built(settings):
        raise SandboxError("the sandbox is not built; run: tamas sandbox up")
    result = _chroot(settings, "asterisk", "-rx", command, timeout=timeout)
    if result.returncode != 0 and "Unable to connect" in result.stdout + result.stderr:
        raise SandboxError("Asterisk is not running; start it with: tamas sandbox up")
    if result.returncode != 0:
        raise SandboxError(
            (result.stdout + result.stderr).strip()
            or "Asterisk is not running; run: tamas sandbox up"
        )
    return result.stdout


def version(settings: Settings) -> str | None:
    """Asterisk's version line when it runs, else None."""
    if not is_built(settings) or os.geteuid() != 0:
        return None
    try:
        result = _chroot(settings, "asterisk", "-rx", "core show version", timeout=10)
    except subprocess.TimeoutExpired:
        return None
    if result.returncode != 0 or not result.stdout.startswith("Asterisk"):
        return None
    return result.stdout.strip()


def _pid(settings: Settings) -> int | None:
    pidfile = root_dir(settings) / "run/asterisk/asterisk.pid"
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def ami_answers(settings: Settings, timeout: float = 2.0) -> bool:
    """True when AMI accepts a login with our credentials (not just an open port)."""
    try:
        with socket.create_connection(
            (settings.ami_host, settings.ami_port), timeout=timeout
        ) as sock:
            sock.settimeout(timeout)
            banner = sock.recv(200)
            if not banner.startswith(b"Asterisk Call Manager"):
                return False
            login = (
                "Action: Login\r\nActionID: sandbox-check\r\n"
                f"Username: {settings.ami_username}\r\nSecret: {settings.effective_ami_secret}\r\n"
                "Events: off\r\n\r\n"
            )
            sock.sendall(login.encode())
            reply = b""
            while b"\r\n\r\n" not in reply:
                chunk = sock.recv(4096)
                if not chunk:
                    return False
                reply += chunk
            sock.sendall(b"Action: Logoff\r\n\r\n")
            return b"Response: Success" in reply
    except OSError:
        return False


def up(settings: Settings) -> str:
    """Build if needed, write config, start (or reload) Asterisk, wait for AMI. Returns the
    version line."""
    _require_root("run the sandbox")
    build(settings)
    write_config(settings)
    if version(settings) is not None:
        cli(settings, "core reload")
        # A reload does not load modules newly listed in modules.conf (the fax modules, the
        # PostgreSQL record writers): load what is not loaded yet.
        loaded = cli(settings, "module show")
        for module in config.MODULES:
            if module not in loaded:
                # One this build does not ship is not in modules.conf either: let it be.
                with contextlib.suppress(SandboxError):
                    cli(settings, f"module load {module}")
        # module reload is asynchronous; wait until the manager accepts our (maybe new) secret.
        _wait_for_ami(settings)
        return version(settings) or ""
    if _pid(settings) is not None:
        _stop(settings)
    result = _chroot(settings, "asterisk", "-U", "asterisk", "-G", "asterisk")
    if result.returncode != 0:
        raise SandboxError(
            f"Asterisk did not start: {(result.stdout + result.stderr).strip()}; "
            f"see {asterisk_log(settings)}"
        )
    _wait_for_ami(settings)
    return _version_when_ready(settings)


def _version_when_ready(settings: Settings) -> str:
    # Just after start the remote console may answer before the CLI commands are registered.
    deadline = time.monotonic() + 10
    while (line := version(settings)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    return line or "version unknown"


def _wait_for_ami(settings: Settings) -> None:
    deadline = time.monotonic() + AMI_WAIT_S
    while time.monotonic() < deadline:
        if ami_answers(settings):
            return
        time.sleep(0.2)
    raise SandboxError(
        f"Asterisk runs but AMI on {settings.ami_host}:{settings.ami_port} did not accept our "
        f"login within {AMI_WAIT_S:.0f} s (is another process on that port?); "
        f"see {asterisk_log(settings)}"
    )


def down(settings: Settings) -> bool:
    """Stop Asterisk; True if it was running."""
    _require_root("stop the sandbox")
    if not is_built(settings):
        return False
    return _stop(settings)


def _stop(settings: Settings) -> bool:
    pid = _pid(settings)
    running = version(settings) is not None
    if not running and pid is None:
        return False
    if running:
        with contextlib.suppress(subprocess.TimeoutExpired):
            _chroot(settings, "asterisk", "-rx", "core stop now", timeout=15)
    deadline = time.monotonic() + 10
    while pid is not None and Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid is not None and Path(f"/proc/{pid}").exists():
        # Only the pid Asterisk wrote into our own root's pidfile, never a process by name.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
    return True


# ---------------------------------------------------------------- the command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["up", "down", "status", "cli"])
    parser.add_argument("args", nargs=argparse.REMAINDER, help="for cli: the Asterisk CLI command")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from tamas.errors import CommandError

    try:
        if args.action == "up":
            started = time.monotonic()
            line = up(settings)
            print(
                f"sandbox: running ({line}); AMI {settings.ami_host}:{settings.ami_port}, "
                f"up in {time.monotonic() - started:.1f} s"
            )
        elif args.action == "down":
            print("sandbox: stopped" if down(settings) else "sandbox: was not running")
        elif args.action == "status":
            if not is_built(settings):
                print(f"sandbox: not built (root would be {root_dir(settings)})")
                return 3
            running = version(settings)
            if running is None:
                print("sandbox: built, not running")
                return 3
            print(f"sandbox: running; {running}")
        else:
            command = " ".join(args.args) or "core show version"
            print(cli(settings, command), end="")
    except SandboxError as error:
        raise CommandError(str(error)) from error
    return 0
