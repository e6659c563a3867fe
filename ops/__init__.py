"""Running unattended: notifications, heartbeats and health, the watchdog, Prometheus metrics, structured logs.

Nothing here runs inside the bar-close path: the notifier is a beat job that reads what changed since its
cursors, and the hot paths only carry log context and a few metric observations (see README "Leaving it
running").
"""
