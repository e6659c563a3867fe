"""Broker clients behind one small interface (brokers.base.BrokerClient)."""
