"""``--shard K/N``: a stable share of the fleet file's services, for one CI runner.

A service's shard is a hash of its name modulo N, not its place in the list:
a service is in the same shard on every run and every machine whatever is
added, removed or reordered around it, so adding one service never moves
another (by position, inserting one near the top would shift every later one
along), and a shard's log from last night covers the same services as
tonight's. Changing N reshuffles everything, which costs nothing: no shard
keeps state between runs. A hash spreads hundreds of services evenly enough;
a small fleet may leave a shard empty, which reports nothing.
"""

import hashlib
import re
from dataclasses import replace

from fleet.fleet_file import Fleet, FleetFileError

SHARD = re.compile(r"(\d+)/(\d+)")


def parse(text: str) -> tuple[int, int]:
    """``K/N`` as (K, N), 1 <= K <= N; one line saying what is wrong otherwise."""
    match = SHARD.fullmatch(text.strip())
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise FleetFileError(
            f"--shard {text} is not a shard: give K/N with 1 <= K <= N, e.g. --shard 1/4"
        )
    return int(match[1]), int(match[2])


def shard_of(name: str, count: int) -> int:
    """The shard (1 to ``count``) that the service ``name`` is in: SHA-256, so
    the same on every machine and run (Python's own hash is salted per process)."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select(fleet: Fleet, shard: int, count: int) -> Fleet:
    """The fleet with only the services in shard ``shard`` of ``count``."""
    return replace(
        fleet,
        services=[s for s in fleet.services if shard_of(s.name, count) == shard],
    )
