"""bench.feedback's load on the public form: customers opening their personal links and
answering, from a process of its own (stdlib only).

    python -m bench.feedback_client --base http://127.0.0.1:8765 --links FILE \
        --body FILE --connections 2

`--links`: one personal link path per line (each is answered once). `--body`: the answers as
a JSON object of form fields. Each of `--connections` threads takes the next link, GETs the
page (its CSRF cookie and hidden token), then POSTs the answers as a browser does, and times
the pair. Prints `pairs=`, `pairs_per_s=`, `p50_ms=`, `p95_ms=`, `errors=`, `statuses=`.
"""

import argparse
import http.client
import json
import re
import statistics
import threading
import time
from collections import Counter
from urllib.parse import urlencode, urlsplit

_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
_CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")


def _answer(connection: http.client.HTTPConnection, path: str, body: dict) -> tuple[int, int]:
    """GET then POST one link; the two statuses."""
    connection.request("GET", path)
    page = connection.getresponse()
    html = page.read()
    cookie = _CSRF_COOKIE.search(page.getheader("Set-Cookie") or "")
    token = _CSRF_INPUT.search(html)
    if page.status != 200 or cookie is None or token is None:
        return page.status, 0
    form = urlencode({**body, "csrfmiddlewaretoken": token.group(1).decode()}, doseq=True)
    connection.request(
        "POST",
        path,
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie.group(1)}",
            "Referer": f"http://{connection.host}:{connection.port}{path}",
        },
    )
    answer = connection.getresponse()
    answer.read()
    return page.status, answer.status


def _worker(base: str, links: list[str], lock, body: dict, latencies: list, statuses) -> None:
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    while True:
        with lock:
            if not links:
                break
            path = links.pop()
        started = time.monotonic()
        try:
            got, posted = _answer(connection, path, body)
        except (ConnectionError, http.client.HTTPException, OSError):
            connection.close()
            statuses["disconnected"] += 1
            continue
        latencies.append(time.monotonic() - started)
        statuses[f"{got}/{posted}"] += 1
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--links", required=True)
    parser.add_argument("--body", required=True)
    parser.add_argument("--connections", type=int, default=2)
    arguments = parser.parse_args()
    with open(arguments.links) as lines:
        links = [line.strip() for line in lines if line.strip()]
    with open(arguments.body) as source:
        body = json.load(source)
    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=_worker, args=(arguments.base, links, lock, body, latencies, statuses)
        )
        for _ in range(arguments.connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    ok = statuses.get("200/303", 0)
    print(f"pairs={len(latencies)}")
    print(f"pairs_per_s={len(latencies) / elapsed:.1f}")
    print(f"p50_ms={cuts[49] * 1000:.1f}")
    print(f"p95_ms={cuts[94] * 1000:.1f}")
    print(f"errors={sum(statuses.values()) - ok}")
    print("statuses=" + ",".join(f"{key}:{count}" for key, count in sorted(statuses.items())))


if __name__ == "__main__":
    main()
