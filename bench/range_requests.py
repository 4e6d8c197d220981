"""Time many range requests against the configured index, over HTTP/1.1 and over HTTP/2.

A cold resolution against an index without metadata files reads each wheel's METADATA
with range requests: hundreds or thousands of small requests. This measures what they
cost in wall time and in CPU per request, at a given concurrency, with resolvent's own
client (``HttpClient.get_tail``) on the newest wheels of one project. It talks to the
real index (the default index read at run time, as resolvent does)::

    python -m bench.range_requests PROJECT [--count 300] [--concurrency 32] [--tail 65536]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

from resolvent.index.config import pip_default_index_url
from resolvent.index.http import HttpClient

_JSON = "application/vnd.pypi.simple.v1+json"


async def _measure(project: str, count: int, concurrency: int, tail: int, *, http2: bool) -> str:
    async with HttpClient(max_concurrency=concurrency, http2=http2) as client:
        base = (pip_default_index_url() or "").rstrip("/")
        if not base:
            return "no index is configured"
        page = await client.get(f"{base}/{project}/", accept=_JSON, cache=False)
        files = json.loads(page.content)["files"]
        urls = [f["url"] for f in files if f["filename"].endswith(".whl")][-count - 1 :]
        if len(urls) < 2:
            return f"{project}: not enough wheels"
        await client.get_tail(urls[0], tail)  # one connection up before the clock starts
        started, cpu = time.perf_counter(), os.times()
        await asyncio.gather(*(client.get_tail(url, tail) for url in urls[1:]))
        wall, after = time.perf_counter() - started, os.times()
    used = (after.user - cpu.user) + (after.system - cpu.system)
    protocol = "HTTP/2  " if http2 else "HTTP/1.1"
    return (
        f"{protocol} {len(urls) - 1} requests at {concurrency}: {wall:.2f} s, "
        f"{used / (len(urls) - 1) * 1000:.1f} ms CPU per request"
    )


def main() -> None:
    """Print one line per protocol, HTTP/1.1 first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--tail", type=int, default=64 * 1024)
    args = parser.parse_args()
    for http2 in (False, True):
        line = asyncio.run(
            _measure(args.project, args.count, args.concurrency, args.tail, http2=http2)
        )
        print(line)


if __name__ == "__main__":
    main()
