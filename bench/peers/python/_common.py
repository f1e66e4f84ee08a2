"""Shared by the Python peers: `SCRIPT N [asyncio|uvloop]`.

The benchmark code is plain asyncio and identical for both loops; uvloop is
Debian's python3-uvloop, so run these with /usr/bin/python3.
"""
import asyncio
import sys


def args(default_n):
    n = int(sys.argv[1]) if len(sys.argv) > 1 else default_n
    loop = sys.argv[2] if len(sys.argv) > 2 else "asyncio"
    if n <= 0:
        raise SystemExit(f"bad N {n}")
    return n, loop


def run(main, n, loop):
    if loop == "uvloop":
        import uvloop
        uvloop.install()
    elif loop != "asyncio":
        raise SystemExit(f"unknown loop {loop}")
    return asyncio.run(main(n, loop))


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)
