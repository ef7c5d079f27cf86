"""TaskFlow Pro core: Django + DRF, the only writer of data."""
