"""bench.mixed's load: a bounded asyncio HTTP/1.1 client (stdlib only), run in its own process.

    python -m bench.mixed_client --base http://127.0.0.1:8765 --customers 1,2,3 \
        --program bank --reward 7 --seconds 60 --connections 4 --prefix run1

Each of `--connections` workers sends one request at a time until the time is up, drawn at
random (seeded) in these shares: 70% reads (the customer, their points balance, their
memberships: a third each), 20% earns, 5% redemptions, 5% new tickets; every write carries a
unique Idempotency-Key. The knox token comes from the environment (BENCH_MIXED_TOKEN). It
reconnects whenever the server closes the connection (gunicorn's sync workers do after each
response). Prints `rps=`, `p50_ms=`, `p99_ms=`, `ok=`, `errors=`, `statuses=` and per kind
`<kind>_n=`, `<kind>_p99_ms=`.
"""

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import time
import uuid
from collections import Counter, defaultdict
from urllib.parse import urlsplit

from bench.http_response import response_read

# (kind, share, method): reads split the 70% in three.
MIX = [
    ("customer", 70 / 3, "GET"),
    ("balance", 70 / 3, "GET"),
    ("memberships", 70 / 3, "GET"),
    ("earn", 20, "POST"),
    ("redeem", 5, "POST"),
    ("ticket", 5, "POST"),
]


def _request_for(kind: str, customer: str, arguments, key: str) -> tuple[str, str, bytes]:
    if kind == "customer":
        return "GET", f"/api/v1/customers/{customer}/", b""
    if kind == "balance":
        return "GET", f"/api/v1/loyalty/customers/{customer}/points/", b""
    if kind == "memberships":
        return "GET", f"/api/v1/loyalty/customers/{customer}/memberships/", b""
    if kind == "earn":
        path = f"/api/v1/loyalty/customers/{customer}/points/{arguments.program}/earn/"
        return "POST", path, json.dumps({"points": 10, "reason": "bench"}).encode()
    if kind == "redeem":
        body = json.dumps({"reward": arguments.reward}).encode()
        return "POST", f"/api/v1/loyalty/customers/{customer}/redemptions/", body
    body = {
        "customer": int(customer),
        "category": "points",
        "subject": "Points not credited",
        "description": f"bench {key}",
        "external_id": key,
    }
    return "POST", "/api/v1/tickets/", json.dumps(body).encode()


async def _request(reader, writer, *, host, method, path, token, body, key):
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Token {token}\r\n"
    if method == "POST":
        head += (
            f"Idempotency-Key: {key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
        )
    writer.write((head + "\r\n").encode() + body)
    await writer.drain()
    return await response_read(reader)


async def _worker(arguments, customers, deadline, latencies, statuses, serial) -> None:
    url = urlsplit(arguments.base)
    host, port = url.hostname, url.port or 80
    token = os.environ["BENCH_MIXED_TOKEN"]
    draw = random.Random(f"{arguments.prefix}-{serial}")
    kinds = [kind for kind, _share, _method in MIX]
    weights = [share for _kind, share, _method in MIX]
    connection = None
    while time.monotonic() < deadline:
        kind = draw.choices(kinds, weights)[0]
        key = f"{arguments.prefix}-{serial}-{uuid.uuid4().hex}"
        method, path, body = _request_for(kind, next(customers), arguments, key)
        if connection is None:
            connection = await asyncio.open_connection(host, port)
        started = time.monotonic()
        try:
            status, close = await _request(
                *connection, host=url.netloc, method=method, path=path, token=token,
                body=body, key=key,
            )  # fmt: skip
        except (ConnectionError, asyncio.IncompleteReadError):
            connection[1].close()
            connection = None
            statuses[("disconnected", kind)] += 1
            continue
        latencies[kind].append(time.monotonic() - started)
        statuses[(status, kind)] += 1
        if close:
            connection[1].close()
            connection = None
    if connection is not None:
        connection[1].close()


def _p(values: list[float], cut: int) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else 0.0
    return statistics.quantiles(values, n=100)[cut - 1] * 1000


async def _run(arguments) -> None:
    customers = itertools.cycle(arguments.customers.split(","))
    latencies: dict[str, list[float]] = defaultdict(list)
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
    ok = sum(n for (status, _kind), n in statuses.items() if str(status).startswith("2"))
    everything = [value for values in latencies.values() for value in values]
    print(f"rps={ok / elapsed:.1f}")
    print(f"p50_ms={_p(everything, 50):.1f}")
    print(f"p99_ms={_p(everything, 99):.1f}")
    print(f"ok={ok}")
    print(f"errors={sum(statuses.values()) - ok}")
    by_status = Counter()
    for (status, kind), n in statuses.items():
        by_status[f"{kind}:{status}"] += n
    print("statuses=" + ",".join(f"{name}:{n}" for name, n in sorted(by_status.items())))
    for kind, _share, _method in MIX:
        print(f"{kind}_n={len(latencies[kind])}")
        print(f"{kind}_p99_ms={_p(latencies[kind], 99):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--customers", required=True, help="comma-separated customer ids")
    parser.add_argument("--program", required=True)
    parser.add_argument("--reward", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--prefix", default="bench")
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
