"""Test support shared by the suites: the fake OANDA v20 server (``tests.support.fake_oanda``) and the fake
cTrader Open API server (``tests.support.fake_ctrader``)."""
