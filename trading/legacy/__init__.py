"""Bringing an asirikuy-trader portfolio over: import atrader.config and its .set presets (dry run first),
export an instance back to a .set, and keep what a foreign library shows (UI values, heartbeat) per instance."""
