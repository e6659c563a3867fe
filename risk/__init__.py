"""Guard rails, kill switches, market hours and the audit log of manual actions (issue #7 items 3-5)."""
