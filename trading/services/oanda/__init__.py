"""OANDA accounts on the platform: history sync, prices, reconciliation."""
