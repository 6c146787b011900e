"""Production serving: whitenoise's manifest storage and gunicorn's settings."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_collectstatic_with_production_settings_makes_hashed_compressed_files(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "k3#Qz!r8vLw2@pXn6&tYb9^mHc4*Js7%Fd1$Ge5+Ua0-Ri2=Wo8~Ek3?Nl6",
        "DJANGO_ALLOWED_HOSTS": "crm.example.com",
        "VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    static = tmp_path / "static"
    assert (static / "staticfiles.json").exists()
    charts = list((static / "workflows").glob("ticket_reports.*.js"))
    assert charts  # hashed name
    assert list((static / "workflows").glob("ticket_reports.*.js.gz"))
    assert list(static.glob("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.*.js"))


def test_gunicorn_settings_leave_personal_data_out_of_the_access_log(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    namespace: dict = {}
    exec((ROOT / "config" / "gunicorn.py").read_text(), namespace)  # noqa: S102
    assert namespace["workers"] == 3
    log_format = namespace["access_log_format"]
    assert "%(U)s" in log_format  # the path without the query string
    for personal in ("%(h)s", "%(r)s", "%(q)s", "%(a)s"):
        assert personal not in log_format
    assert "x-request-id" in log_format
