from tests.emails.conftest import mailbox, short_email_delay, smtp, worker
from tests.events.conftest import event_stream, stream_redis

__all__ = ["event_stream", "mailbox", "short_email_delay", "smtp", "stream_redis", "worker"]
