"""Settings end up printed and logged (a traceback's locals, a debug line): their secrets
must not come with them."""

from __future__ import annotations

from tamas import settings


def test_settings_repr_hides_secrets_and_url_passwords() -> None:
    loaded = settings.load(
        env={
            "TAMAS_AMI_SECRET": "ami-s3cret",
            "TAMAS_SMTP_PASSWORD": "smtp-s3cret",
            "TAMAS_SMS_GATEWAY_TOKEN": "sms-s3cret",
            "TAMAS_FAX_GATEWAY_TOKEN": "fax-s3cret",
            "TAMAS_CUSTOMER_FILE_TOKEN": "core-s3cret",
            "TAMAS_DATABASE_URL": "postgresql+asyncpg://tamas:db-s3cret@db.example/tamas",
            "TAMAS_REDIS_URL": "redis://:redis-s3cret@cache.example:6379/0",
        }
    )
    for shown in (repr(loaded), str(loaded), f"{loaded!r}"):
        assert "s3cret" not in shown
        assert "ami_secret='***'" in shown
        assert "postgresql+asyncpg://tamas:***@db.example/tamas" in shown
        assert "ami_username='tamas'" in shown  # what is not secret is still there to read
    assert loaded.ami_secret == "ami-s3cret"


def test_empty_secrets_show_as_empty() -> None:
    assert "smtp_password=''" in repr(settings.Settings())
