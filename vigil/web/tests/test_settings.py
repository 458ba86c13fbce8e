import os
import subprocess
import sys

import pytest
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured

from vigil import settings as vigil_settings


def read_setting(tmp_path, name, **env):
    code = f"import vigil.settings as s; print(s.{name})"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "DATABASE_URL"))}
    result = subprocess.run([sys.executable, "-c", code], env={**clean, "VIGIL_DATA_DIR": str(tmp_path), **env},
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_the_secret_key_is_generated_once_and_kept_in_the_data_dir(tmp_path):
    first = read_setting(tmp_path, "SECRET_KEY")
    assert len(first) > 50
    assert (tmp_path / "secret_key").read_text().strip() == first
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"
    assert read_setting(tmp_path, "SECRET_KEY") == first


def test_a_given_secret_key_wins(tmp_path):
    assert read_setting(tmp_path, "SECRET_KEY", VIGIL_SECRET_KEY="from-env") == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_sqlite_in_the_data_dir_is_the_default_and_postgres_comes_from_database_url(tmp_path):
    assert read_setting(tmp_path, "DATABASES['default']['NAME']") == str(tmp_path / "vigil.sqlite3")
    url = "postgres://vigil:pw@db.example:5433/vigil"
    assert read_setting(tmp_path, "DATABASES['default']['ENGINE']", DATABASE_URL=url) == "django.db.backends.postgresql"
    assert read_setting(tmp_path, "DATABASES['default']['PORT']", DATABASE_URL=url) == "5433"


def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    config = vigil_settings.database("sqlite:////tmp/x.sqlite3")
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.django_db
def test_the_test_database_really_is_in_wal_mode_on_sqlite():
    from django.db import connection
    if connection.vendor != "sqlite" or connection.settings_dict["NAME"].startswith("file:memory"):
        pytest.skip("in-memory SQLite has no journal file")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


def test_a_bad_boolean_or_url_stops_the_start(monkeypatch):
    monkeypatch.setenv("VIGIL_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="VIGIL_DEBUG"):
        vigil_settings.env_bool("VIGIL_DEBUG")
    monkeypatch.setenv("VIGIL_SMTP_URL", "mail.example.com")
    with pytest.raises(ImproperlyConfigured, match="VIGIL_SMTP_URL"):
        vigil_settings.env_url("VIGIL_SMTP_URL", "", ["smtp", "smtps"])


def test_passwords_are_hashed_with_argon2():
    assert vigil_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert make_password("correct horse battery").startswith("argon2$")
