from pathlib import Path

import pytest

from tamas import settings
from tamas.logs import mask_sensitive


def test_environment_overrides_config_file(tmp_path: Path) -> None:
    config = tmp_path / "tamas.toml"
    config.write_text('ami_port = 6000\nhttp_port = 9000\nfastagi_allow = ["127.0.0.1"]\n')
    loaded = settings.load(config, env={"TAMAS_HTTP_PORT": "9100"})
    assert loaded.ami_port == 6000
    assert loaded.http_port == 9100
    assert loaded.fastagi_allow == ("127.0.0.1",)


def test_unknown_key_in_config_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "tamas.toml"
    config.write_text("ami_prot = 1\n")
    with pytest.raises(settings.SettingsError, match="ami_prot"):
        settings.load(config, env={})


def test_bad_number_names_the_setting() -> None:
    with pytest.raises(settings.SettingsError, match="ami_port"):
        settings.load(env={"TAMAS_AMI_PORT": "five"})


def test_ami_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    loaded = settings.load(env={"TAMAS_DATA_DIR": str(tmp_path)})
    first = loaded.effective_ami_secret
    assert len(first) >= 24
    assert loaded.effective_ami_secret == first
    assert (tmp_path / "ami.secret").stat().st_mode & 0o077 == 0


def test_logs_never_carry_a_national_id_or_pin() -> None:
    line = mask_sensitive("caller +989121234567 keyed national id 0012345679 and PIN: 4821")
    assert "0012345679" not in line
    assert "4821" not in line
    assert "+989121234567" in line


def test_sounds_dir_is_the_sandboxs_folder_once_built_else_under_data_dir(tmp_path: Path) -> None:
    env = {"TAMAS_DATA_DIR": str(tmp_path / "data"), "TAMAS_SANDBOX_DIR": str(tmp_path / "sb")}
    assert settings.load(env=env).effective_sounds_dir == tmp_path / "data" / "sounds"
    asterisk = tmp_path / "sb" / "root" / "usr" / "sbin" / "asterisk"
    asterisk.parent.mkdir(parents=True)
    asterisk.touch()
    built = settings.load(env=env).effective_sounds_dir
    assert built == (tmp_path / "sb" / "root" / settings.SANDBOX_SOUNDS).resolve()


def test_a_sounds_dir_setting_is_where_asterisk_plays_from(tmp_path: Path) -> None:
    loaded = settings.load(env={"TAMAS_SOUNDS_DIR": "/usr/share/asterisk/sounds/tamas"})
    assert loaded.effective_sounds_dir == Path("/usr/share/asterisk/sounds/tamas")


def test_every_setting_is_a_key_of_the_file_and_the_environment(tmp_path: Path) -> None:
    # No catch-all: a key nothing reads does not load (the old `extra` bag is gone).
    config = tmp_path / "tamas.toml"
    config.write_text("extra = {}\n")
    with pytest.raises(settings.SettingsError, match="extra"):
        settings.load(config, env={})
