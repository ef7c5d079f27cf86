"""The realtime service: FastAPI WebSocket delivery of the core's events (docs/events.md).

It reads the Redis event stream and pushes each event to its recipients' open sockets. It never
writes to PostgreSQL and never imports Django or the core (an import-linter contract).
"""
