"""Test support in one place: the fake brokers (``fake_oanda``, ``fake_ctrader``: pure, no Django, spoken to over
real loopback sockets), plain data ``builders``, ``polling`` for what another process does, and real Celery
``workers`` pointed at the test database."""
