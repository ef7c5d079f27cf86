"""The stream's epoch: history that Redis may have lost becomes visible (docs/events.md "Epoch").

Redis can come back from a restart empty, from an older snapshot, or with its AOF rolled back
to the last fsync; in each case entries that clients may hold ids of are gone, and new entries
get fresh, larger ids (ids are time-based), so comparing ids cannot tell. A restart always
changes Redis's `run_id`, so the epoch hash records the run it was set in: a different run (or
no hash at all where a stream used to be) means history may have been lost. The relay then
appends an `epoch` control entry, whose id becomes the floor below which no replay is trusted,
and records the new epoch, atomically. (A restart that lost nothing costs one `resync` per
client: conservative.)
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import redis
from django.conf import settings

from taskflow_core.events.publishing import redis_text
from taskflow_events import keys
from taskflow_events.control import Epoch

logger = logging.getLogger(__name__)

# KEYS: stream, epoch hash. ARGV: Redis's run id, a new epoch id, the control message, '1' to
# append the control entry (history may have been lost) or '0' (a new installation: nobody can
# hold an id yet). Answer: the new floor, or false when another relay set this run's epoch first.
EPOCH_LUA = """
local run = redis.call('HGET', KEYS[2], 'run')
if run == ARGV[1] then return false end
local floor = '0-0'
if ARGV[4] == '1' then
  floor = redis.call('XADD', KEYS[1], '*', 'r', '', 'c', ARGV[3])
end
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'floor', floor, 'run', ARGV[1])
return floor
"""


@dataclass(frozen=True)
class EpochState:
    run_id: str  # Redis's current run
    recorded_run: str | None  # the run the current epoch was set in (None: no epoch)

    @property
    def current(self) -> bool:
        return self.recorded_run == self.run_id


def stream_epoch_read(client: redis.Redis) -> EpochState:
    """Redis's run and the epoch's, in one round trip."""
    pipeline = client.pipeline(transaction=False)
    pipeline.info("server")
    pipeline.hget(keys.epoch_key(settings.TASKFLOW_EVENT_STREAM), "run")
    info, run = pipeline.execute()
    return EpochState(str(info["run_id"]), run.decode() if run is not None else None)


def stream_epoch_start(client: redis.Redis, state: EpochState, *, lost: bool) -> str | None:
    """Start the epoch of `state.run_id`; with `lost`, behind an `epoch` control entry (which
    tells every connected socket to resync). The new floor, or None if another relay did it."""
    stream = settings.TASKFLOW_EVENT_STREAM
    new_epoch = secrets.token_hex(8)
    floor = client.eval(
        EPOCH_LUA,
        2,
        stream,
        keys.epoch_key(stream),
        state.run_id,
        new_epoch,
        Epoch(epoch=new_epoch).model_dump_json(),
        "1" if lost else "0",
    )
    if floor is None:  # another relay got there first
        return None
    floor_text = redis_text(floor)
    if lost:
        logger.warning(
            "event stream %s: Redis restarted (run %s), history may be lost: new epoch %s from %s",
            stream,
            state.run_id,
            new_epoch,
            floor_text,
        )
    else:
        logger.info("event stream %s: epoch %s set", stream, new_epoch)
    return floor_text
