"""scripts/services on machines we cannot make here: a fresh one, one with stopped servers,
one without root. The script runs for real with a PATH of stand-ins for apt-get, PostgreSQL's
and Redis's commands, which keep the machine's state in files and log every call."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "services"
# The ordinary tools the script uses, taken from this machine.
TOOLS = ["bash", "env", "tail", "head", "sleep", "seq", "sed", "grep", "awk", "sort", "ls", "mkdir"]
TRUST_LINE = "host all postgres 127.0.0.1/32 trust"
DEBIAN_HBA = (
    "local   all             postgres                                peer\n"
    "host    all             all             127.0.0.1/32            scram-sha-256\n"
)

# Each stand-in is a shell script; $STATE holds the machine's state, $STATE/calls the log.
# They use the real machine's tools (ln, touch) but find the other stand-ins first.
STAND_INS = {
    "apt-get": r"""
echo "apt-get $*" >> "$STATE/calls"
[ -f "$STATE/apt_fails" ] && { echo "E: Unable to locate package $3"; exit 100; }
[ "$1" = install ] || exit 0
for package in "$@"; do
  case "$package" in
    postgresql)
      for tool in pg_ctlcluster pg_lsclusters pg_createcluster pg_isready psql; do
        ln -sf "$STANDINS/$tool" "$BIN/$tool"
      done
      # Debian's package makes cluster 15/main; in a container its start can fail.
      touch "$STATE/pg_cluster"
      printf '%s' "$DEBIAN_HBA" > "$STATE/pg_hba.conf" ;;
    redis-server)
      ln -sf "$STANDINS/redis-server" "$BIN/redis-server"
      ln -sf "$STANDINS/redis-cli" "$BIN/redis-cli" ;;
  esac
done
""",
    "pg_lsclusters": r"""
[ -f "$STATE/pg_cluster" ] || exit 0
status=down; [ -f "$STATE/pg_running" ] && status=online
echo "15 main 5432 $status postgres /var/lib/postgresql/15/main /var/log/postgresql.log"
""",
    "pg_createcluster": r"""
echo "pg_createcluster $*" >> "$STATE/calls"; touch "$STATE/pg_cluster"
""",
    "pg_ctlcluster": r"""
echo "pg_ctlcluster $*" >> "$STATE/calls"
[ "${@: -1}" = start ] && touch "$STATE/pg_running"
exit 0
""",
    "pg_isready": r"""
[ -f "$STATE/pg_running" ]
""",
    "psql": r"""
case "$*" in
  *"-h 127.0.0.1"*)
    [ -f "$STATE/pg_running" ] || exit 2
    [ -f "$STATE/pg_trusts" ] && exit 0
    echo "psql: error: fe_sendauth: no password supplied" >&2; exit 2 ;;
  *"SHOW hba_file"*) echo "$STATE/pg_hba.conf" ;;
  *pg_reload_conf*)
    echo "reload" >> "$STATE/calls"
    head -n 1 "$STATE/pg_hba.conf" | grep -q "^$TRUST_LINE" && touch "$STATE/pg_trusts"
    echo t ;;
esac
""",
    "runuser": r"""
echo "runuser $*" >> "$STATE/calls"
while [ "$1" != -- ]; do shift; done
shift
exec "$@"
""",
    "redis-server": r"""
echo "redis-server $*" >> "$STATE/calls"; touch "$STATE/redis_running"
""",
    "redis-cli": r"""
[ -f "$STATE/redis_running" ] && echo PONG || { echo "Could not connect to Redis"; exit 1; }
""",
    "id": r"""
echo "${FAKE_UID:-0}"
""",
}


@dataclass
class Machine:
    """A machine as the script sees it: its PATH, its state files and its log of calls."""

    root: Path

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def install_postgresql(self, *, running: bool, trusts_tests: bool) -> None:
        for tool in ["pg_ctlcluster", "pg_lsclusters", "pg_createcluster", "pg_isready", "psql"]:
            (self.bin / tool).symlink_to(self.root / "stand-ins" / tool)
        (self.state / "pg_cluster").touch()
        (self.state / "pg_hba.conf").write_text(TRUST_LINE + "\n" + DEBIAN_HBA)
        if running:
            (self.state / "pg_running").touch()
        if trusts_tests:
            (self.state / "pg_trusts").touch()

    def install_redis(self, *, running: bool) -> None:
        for tool in ["redis-server", "redis-cli"]:
            (self.bin / tool).symlink_to(self.root / "stand-ins" / tool)
        if running:
            (self.state / "redis_running").touch()

    def run(self, uid: int = 0) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": str(self.bin),
            "STATE": str(self.state),
            "BIN": str(self.bin),
            "HOST_PATH": os.environ["PATH"],
            "STANDINS": str(self.root / "stand-ins"),
            "DEBIAN_HBA": DEBIAN_HBA,
            "TRUST_LINE": TRUST_LINE,
            "FAKE_UID": str(uid),
        }
        return subprocess.run(
            [str(self.bin / "bash"), str(SCRIPT)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def calls(self) -> list[str]:
        log = self.state / "calls"
        return log.read_text().splitlines() if log.exists() else []

    def hba(self) -> list[str]:
        return (self.state / "pg_hba.conf").read_text().splitlines()


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    """A machine with neither PostgreSQL nor Redis, only apt-get and the ordinary tools."""
    stand_ins, bin_dir, state = tmp_path / "stand-ins", tmp_path / "bin", tmp_path / "state"
    for folder in (stand_ins, bin_dir, state):
        folder.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, f"{tool} is needed to run the test"
        (bin_dir / tool).symlink_to(found)
    for name, body in STAND_INS.items():
        path = stand_ins / name
        path.write_text(f'#!{bin_dir / "bash"}\nPATH="$BIN:$HOST_PATH"\n{body.lstrip()}')
        path.chmod(0o755)
    for name in ["apt-get", "runuser", "id"]:
        (bin_dir / name).symlink_to(stand_ins / name)
    return Machine(tmp_path)


def test_fresh_machine_gets_postgresql_and_redis_installed_started_and_letting_tests_in(
    machine: Machine,
) -> None:
    result = machine.run()

    assert result.returncode == 0, result.stderr
    calls = machine.calls()
    assert "apt-get install -y -q postgresql redis-server" in calls
    assert "pg_ctlcluster --skip-systemctl-redirect 15 main start" in calls
    assert machine.hba()[0].startswith(TRUST_LINE)
    assert machine.hba()[1:] == DEBIAN_HBA.splitlines(), "Debian's own rules stay as they were"
    redis = [call for call in calls if call.startswith("redis-server")]
    assert len(redis) == 1 and "--bind 127.0.0.1 -::1" in redis[0]
    assert "installing Debian packages: postgresql redis-server" in result.stdout


def test_second_run_on_a_fresh_machine_does_nothing_and_says_nothing(machine: Machine) -> None:
    assert machine.run().returncode == 0
    calls_after_first = machine.calls()
    hba_after_first = machine.hba()

    again = machine.run()

    assert again.returncode == 0
    assert (again.stdout, again.stderr) == ("", "")
    assert machine.calls() == calls_after_first
    assert machine.hba() == hba_after_first


def test_machine_with_both_running_is_left_alone_silently(machine: Machine) -> None:
    machine.install_postgresql(running=True, trusts_tests=True)
    machine.install_redis(running=True)

    result = machine.run()

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert machine.calls() == []


def test_stopped_servers_are_started_without_installing_anything(machine: Machine) -> None:
    machine.install_postgresql(running=False, trusts_tests=True)
    machine.install_redis(running=False)

    result = machine.run()

    assert result.returncode == 0, result.stderr
    calls = machine.calls()
    assert not any(call.startswith("apt-get") for call in calls)
    assert "pg_ctlcluster --skip-systemctl-redirect 15 main start" in calls
    assert any(call.startswith("redis-server") for call in calls)
    assert result.stdout.splitlines() == [
        "services: starting PostgreSQL 15 main",
        "services: starting Redis",
    ]


def test_postgresql_asking_a_password_on_loopback_gets_the_trust_line_once(
    machine: Machine,
) -> None:
    machine.install_postgresql(running=True, trusts_tests=False)
    (machine.state / "pg_hba.conf").write_text(DEBIAN_HBA)
    machine.install_redis(running=True)

    result = machine.run()

    assert result.returncode == 0, result.stderr
    assert [line for line in machine.hba() if TRUST_LINE in line] == [machine.hba()[0]]
    assert "reload" in machine.calls()


def test_without_root_a_fresh_machine_is_told_the_command_to_run(machine: Machine) -> None:
    result = machine.run(uid=1000)

    assert result.returncode == 1
    assert "need root to install postgresql redis-server" in result.stderr
    assert "sudo apt-get install postgresql redis-server" in result.stderr
    assert machine.calls() == []


def test_failed_install_shows_apt_gets_own_words(machine: Machine) -> None:
    (machine.state / "apt_fails").touch()

    result = machine.run()

    assert result.returncode == 1
    assert "E: Unable to locate package" in result.stderr
    assert "failed: apt-get update -q" in result.stderr


def test_this_machine_already_has_both_so_the_real_run_is_a_no_op() -> None:
    result = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=120, check=False)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
