"""bench.points' load: a bounded asyncio HTTP/1.1 client (stdlib only), run in its own process.

    python -m bench.points_client --url-template http://127.0.0.1:8765/x/{customer}/ \
        --customers 1,2,3 --seconds 30 --connections 16 --prefix earn

Each of `--connections` workers posts {"points": n, "reason": "bench"} with a unique
Idempotency-Key, one request at a time, to a customer taken in turn, until the time is up;
The knox token comes from the environment (BENCH_POINTS_TOKEN), not the command line;
it reconnects whenever the server closes the connection (gunicorn's sync workers do after
each response). Prints `rps=`, `p50_ms=`, `p99_ms=`, `ok=`, `errors=` and `statuses=`.
"""

import argparse
import asyncio
import itertools
import json
import os
import statistics
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

from bench.http_response import response_read


async def _request(reader, writer, host: str, path: str, token: str, body: bytes, key: str):
    writer.write(
        (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Token {token}\r\n"
            f"Idempotency-Key: {key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
    )
    await writer.drain()
    return await response_read(reader)


async def _worker(arguments, customers, deadline, latencies, statuses, serial) -> None:
    url = urlsplit(arguments.url_template)
    host, port = url.hostname, url.port or 80
    token = os.environ["BENCH_POINTS_TOKEN"]
    connection = None
    while time.monotonic() < deadline:
        customer = next(customers)
        path = urlsplit(arguments.url_template.format(customer=customer)).path
        key = f"{arguments.prefix}-{serial}-{uuid.uuid4().hex}"
        body = json.dumps({"points": 10, "reason": "bench"}).encode()
        if connection is None:
            connection = await asyncio.open_connection(host, port)
        started = time.monotonic()
        try:
            status, close = await _request(*connection, url.netloc, path, token, body, key)
        except (ConnectionError, asyncio.IncompleteReadError):
            connection[1].close()
            connection = None
            statuses["disconnected"] += 1
            continue
        latencies.append(time.monotonic() - started)
        statuses[status] += 1
        if close:
            connection[1].close()
            connection = None
    if connection is not None:
        connection[1].close()


async def _run(arguments) -> None:
    customers = itertools.cycle(arguments.customers.split(","))
    latencies: list[float] = []
    statuses: Counter = Counter()
    started = time.monotonic()
    deadline = started + arguments.seconds
    await asyncio.gather(
        *(
            _worker(arguments, customers, deadline, latencies, statuses, serial)
            for serial in range(arguments.connections)
        )
    )
    elapsed = time.monotonic() - started
    ok = sum(count for status, count in statuses.items() if str(status).startswith("2"))
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    print(f"rps={ok / elapsed:.1f}")
    print(f"p50_ms={cuts[49] * 1000:.1f}")
    print(f"p99_ms={cuts[98] * 1000:.1f}")
    print(f"ok={ok}")
    print(f"errors={sum(statuses.values()) - ok}")
    print(
        "statuses="
        + ",".join(f"{status}:{count}" for status, count in sorted(statuses.items(), key=str))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url-template", required=True)
    parser.add_argument("--customers", required=True, help="comma-separated customer ids")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--prefix", default="bench")
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
