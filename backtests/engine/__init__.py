"""Backtest engines: the parity engine (Framework.run + the live translation rules + a simulated
broker, in Python) and the fast engine (the same loop in C, framework/backtest.py), plus statistics.

Nothing here touches the database: services load the bars and store the results.
"""
