"""A layer module both functions use (layer content with a python/ folder, as on /opt/python)."""

CALLS = 0


def count():
    global CALLS
    CALLS += 1
    return CALLS
