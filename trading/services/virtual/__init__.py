"""Virtual order mode: strategy orders and trades live in the database; the broker holds one net position."""
