"""Summarise a py-spy raw (collapsed) profile: where the busy samples went.

`python -m bench.profile_summary .taskflow/bench/profiles/core-*.txt [--grep taskflow_]`
prints the functions with the most samples on the stack (inclusive) and at the top (self),
leaving out threads that were only waiting (idle frames).
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

IDLE = ("select", "epoll", "poll (", "wait (", "accept (", "sleep (", "_worker (concurrent")


def load(paths: list[Path]) -> list[tuple[list[str], int]]:
    stacks: list[tuple[list[str], int]] = []
    for path in paths:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                stacks.append((stack.split(";"), int(count)))
    return stacks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--grep", default="", help="only frames containing this text")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    stacks = [(frames, count) for frames, count in load(args.paths) if frames]
    busy = [(frames, count) for frames, count in stacks if not frames[-1].startswith(IDLE)]
    total = sum(count for _, count in busy) or 1
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for frames, count in busy:
        for frame in set(frames):
            if args.grep in frame:
                inclusive[frame] += count
        own[frames[-1]] += count
    print(f"busy samples: {total} of {sum(count for _, count in stacks)}")
    print("\ninclusive (share of busy samples with the frame on the stack):")
    for frame, count in inclusive.most_common(args.top):
        print(f"{100 * count / total:6.1f}%  {frame}")
    print("\nself:")
    for frame, count in own.most_common(args.top):
        print(f"{100 * count / total:6.1f}%  {frame}")


if __name__ == "__main__":
    main()
