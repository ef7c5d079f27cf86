import pytest
from rest_framework.test import APIClient


@pytest.mark.django_db
def test_health_reports_database_and_redis_reachable() -> None:
    response = APIClient().get("/api/v1/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "redis": True}


@pytest.mark.django_db
def test_health_is_503_when_redis_is_unreachable(settings: object) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # type: ignore[attr-defined]
    response = APIClient().get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json()["redis"] is False
