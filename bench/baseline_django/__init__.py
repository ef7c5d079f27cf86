"""P2's baseline: the same Django settings and gunicorn, with one plain create view."""
