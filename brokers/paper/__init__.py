"""The paper broker's rules: pure functions over plain values, shared by the paper venue and the backtester.

The paper account's state (orders, trades, balance) lives in the platform's database and is written by
the paper venue (``trading/venues/paper/``); nothing here touches a database.
"""
