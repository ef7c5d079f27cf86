from tests.events.conftest import event_stream, stream_redis

__all__ = ["event_stream", "stream_redis"]
