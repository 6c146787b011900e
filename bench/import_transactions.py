"""Importing a million transactions with `import_file`, against a bare COPY of the same file.

    python -m bench.import_transactions [--rows 1000000] [--customers 20000] [--chunk 20000]

Uses PostgreSQL (DATABASE_URL, default the local `loyalty_import_bench` database, created and
migrated if missing), with its own customers of the shop source. Writes a GBK CSV with Chinese
headers (some amounts as `￥1,234.50`, 1% refunds of earlier rows), imports it, imports it
again, then loads the same file with a bare COPY into an unindexed scratch table of text
columns, and times the database's own floor for the write (the imported rows INSERT ... SELECTed
into an indexed copy of the table). Prints key=value lines; the headline `ratio_to_copy`
(import time / COPY time) last.
"""

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loyalty_import_bench"
SOURCE = "shop"
HEADER = [
    "交易编号",
    "客户编号",
    "交易金额",
    "币种",
    "消费类别",
    "渠道",
    "支付方式",
    "商户名称",
    "交易时间",
    "交易类型",
    "原交易编号",
]
CATEGORIES = ["餐饮", "超市", "母婴", "旅游", "数码", "服饰", "健康", "教育", "家居", "其他"]
CHANNELS = ["线上", "门店", "POS", "APP"]
PAYMENTS = ["信用卡", "微信支付", "支付宝", "现金"]
MERCHANTS = [
    "海底捞（陆家嘴店）",
    "盒马鲜生",
    "孩子王",
    "携程旅行",
    "京东自营",
    "星巴克",
    "全家便利店",
]


def _setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    # As in production: with DEBUG on, Django would keep the text of every query.
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    _database_create(os.environ["DATABASE_URL"])
    import django

    django.setup()


def _database_create(url: str) -> None:
    """CREATE DATABASE if it is missing (the default is this bench's own database)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def _prepare(customers: int) -> None:
    """Migrate; make the shop's customers (ids BENCH-SH-0000001...); no transactions yet."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench.import_transactions needs PostgreSQL: set DATABASE_URL")
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE crm_transaction")
        cursor.execute("SELECT count(*) FROM crm_sourcerecord WHERE source = %s", [SOURCE])
        have = cursor.fetchone()[0]
        if have < customers:
            cursor.execute(
                """
                WITH made AS (
                    INSERT INTO crm_customer (kind, name, phone, email, is_student, status,
                                              created_at, updated_at)
                    SELECT 'individual', 'Bench ' || n, '', '', false, 'active', now(), now()
                    FROM generate_series(%s, %s) AS n
                    RETURNING id
                )
                INSERT INTO crm_sourcerecord (customer_id, source, external_id, created_at)
                SELECT id, %s, 'BENCH-SH-' || lpad(n::text, 7, '0'), now()
                FROM (SELECT id, %s + row_number() OVER (ORDER BY id) - 1 AS n FROM made) AS m
                """,
                [have + 1, customers, SOURCE, have + 1],
            )
        cursor.execute("ANALYZE")


def _customer_of(row: int, customers: int) -> str:
    return f"BENCH-SH-{row * 7919 % customers + 1:07d}"


def _write_csv(path: Path, rows: int, customers: int) -> None:
    """GBK, as Chinese Excel saves "CSV"; every hundredth row refunds the row 50 before it."""
    import csv

    generator = random.Random(20260301)
    start = datetime(2025, 1, 1, 8, 0)  # noqa: DTZ001 (local time, as the file has it)
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(1, rows + 1):
            when = (start + timedelta(seconds=n * 29)).strftime("%Y-%m-%d %H:%M:%S")
            if n % 100 == 0:
                original = n - 50
                writer.writerow(
                    [
                        f"T{n:09d}",
                        _customer_of(original, customers),
                        "1.00",
                        "CNY",
                        "",
                        "",
                        "",
                        "",
                        when,
                        "退款",
                        f"T{original:09d}",
                    ]
                )
                continue
            cents = generator.randint(100, 500_000)
            amount = f"{cents // 100}.{cents % 100:02d}"
            if n % 7 == 0:
                amount = f"￥{cents // 100:,}.{cents % 100:02d}"
            writer.writerow(
                [
                    f"T{n:09d}",
                    _customer_of(n, customers),
                    amount,
                    "人民币" if n % 3 == 0 else "CNY",
                    CATEGORIES[n % len(CATEGORIES)],
                    CHANNELS[n % len(CHANNELS)],
                    PAYMENTS[n % len(PAYMENTS)],
                    MERCHANTS[n % len(MERCHANTS)],
                    when,
                    "消费",
                    "",
                ]
            )


def _import(path: Path) -> tuple[float, str]:
    import io

    from django.core.management import call_command

    output = io.StringIO()
    started = time.monotonic()
    call_command("import_file", str(path), source=SOURCE, kind="transactions", stdout=output)
    elapsed = time.monotonic() - started
    summary = [line for line in output.getvalue().splitlines() if line.startswith("status=")]
    return elapsed, summary[-1] if summary else output.getvalue()[-500:]


def _bare_copy(path: Path) -> float:
    """The floor: the same bytes into an unindexed table of text columns, nothing checked."""
    from django.db import connection

    columns = ", ".join(f"c{n} text" for n in range(len(HEADER)))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_import_scratch")
        cursor.execute(f"CREATE TABLE bench_import_scratch ({columns})")
        started = time.monotonic()
        with (
            path.open("rb") as handle,
            cursor.cursor.copy(
                "COPY bench_import_scratch FROM STDIN (FORMAT csv, HEADER true, ENCODING 'GBK')"
            ) as copy,
        ):
            while block := handle.read(1024 * 1024):
                copy.write(block)
        elapsed = time.monotonic() - started
        cursor.execute("DROP TABLE bench_import_scratch")
    return elapsed


def _indexed_floor() -> float:
    """What the database alone needs for this write: the imported rows, already clean, into a
    copy of the transactions table with its indexes and checks (no foreign keys)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_import_floor")
        cursor.execute("CREATE TABLE bench_import_floor (LIKE crm_transaction INCLUDING ALL)")
        started = time.monotonic()
        cursor.execute("INSERT INTO bench_import_floor SELECT * FROM crm_transaction")
        elapsed = time.monotonic() - started
        cursor.execute("DROP TABLE bench_import_floor")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=None, help="rows per chunk")
    args = parser.parse_args()
    if args.chunk:
        os.environ["CRM_IMPORT_CHUNK_ROWS"] = str(args.chunk)
    _setup_django()
    _prepare(args.customers)
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("VAR_DIR", folder)
        from django.conf import settings

        settings.MEDIA_ROOT = Path(folder) / "media"
        path = Path(folder) / "transactions.csv"
        started = time.monotonic()
        _write_csv(path, args.rows, args.customers)
        print(
            f"rows={args.rows} file_mb={path.stat().st_size / 1e6:.1f} "
            f"write_s={time.monotonic() - started:.1f}"
        )
        import_s, summary = _import(path)
        print(f"import: {summary}")
        reimport_s, summary = _import(path)
        print(f"reimport: {summary}")
        copy_s = _bare_copy(path)
        floor_s = _indexed_floor()
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"import_s={import_s:.1f} reimport_s={reimport_s:.1f} copy_s={copy_s:.1f}")
    print(f"import_rows_per_s={args.rows / import_s:.0f}")
    print(f"reimport_rows_per_s={args.rows / reimport_s:.0f}")
    print(f"indexed_insert_rows_per_s={args.rows / floor_s:.0f}")
    print(f"copy_rows_per_s={args.rows / copy_s:.0f}")
    print(f"peak_rss_mb={peak_rss_mb:.0f}")
    print(f"ratio_to_copy={import_s / copy_s:.2f}")


if __name__ == "__main__":
    main()
