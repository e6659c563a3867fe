"""Risk services: guard rails on intents, the send gate at dispatch, kill switches, manual actions, audit."""
