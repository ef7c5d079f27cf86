"""The stream's epoch: history that Redis may have lost becomes visible (docs/events.md "Epoch").

Redis can come back from a restart empty, from an older snapshot, or with its AOF rolled back
to the last fsync; in each case entries that clients may hold ids of are gone, and new entries
get fresh, larger ids (ids are time-based), so comparing ids cannot tell. A restart always
changes Redis's `run_id`, so the epoch hash records the run it was set in: a different run (or
no hash at all) means history may have been lost. The relay then appends an `epoch` control
entry, whose id becomes the floor below which no replay is trusted, and records the new epoch,
atomically. (A restart that lost nothing costs one `resync` per client: conservative.)
"""

from __future__ import annotations

import logging
import secrets

import redis
from django.conf import settings

from taskflow_events import keys
from taskflow_events.control import Epoch

logger = logging.getLogger(__name__)

# KEYS: stream, epoch hash. ARGV: Redis's run id, a new epoch id, the control message.
# No epoch yet (a new installation, or a Redis that lost everything, epoch included) is just
# set: everything in the stream is then newer than any id a client holds from before, which
# the first-entry rule already answers with `resync`, and realtime processes that were
# connected saw Redis restart themselves. An epoch of another run gets a control entry (if
# there is a stream to hold it; if not, nothing in it can be replayed anyway).
EPOCH_LUA = """
local run = redis.call('HGET', KEYS[2], 'run')
if run == ARGV[1] then return false end
local floor = '0-0'
if run and redis.call('EXISTS', KEYS[1]) == 1 then
  floor = redis.call('XADD', KEYS[1], '*', 'r', '', 'c', ARGV[3])
end
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'floor', floor, 'run', ARGV[1])
return floor
"""


def stream_epoch_check(client: redis.Redis) -> str | None:
    """Start a new epoch if Redis restarted since the current one; the new floor, or None."""
    stream = settings.TASKFLOW_EVENT_STREAM
    epoch = keys.epoch_key(stream)
    pipeline = client.pipeline(transaction=False)
    pipeline.info("server")
    pipeline.hget(epoch, "run")
    info, run = pipeline.execute()
    run_id = str(info["run_id"])
    if run is not None and run.decode() == run_id:
        return None
    new_epoch = secrets.token_hex(8)
    floor = client.eval(
        EPOCH_LUA, 2, stream, epoch, run_id, new_epoch, Epoch(epoch=new_epoch).model_dump_json()
    )
    if floor is None:  # another relay got there first
        return None
    floor_text = floor.decode() if isinstance(floor, bytes) else str(floor)
    if run is None and floor_text == "0-0":
        logger.info("event stream %s: epoch %s set", stream, new_epoch)
    else:
        logger.warning(
            "event stream %s: Redis restarted (run %s), history may be lost: new epoch %s from %s",
            stream,
            run_id,
            new_epoch,
            floor_text,
        )
    return floor_text
