"""The event contract shared by the core (publisher) and the realtime service (consumer).

Pydantic models for every domain event and every WebSocket frame, and one codec. This package
imports neither Django nor FastAPI, so both sides can depend on it.
"""
