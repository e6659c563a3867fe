"""Deployment files (compose, systemd, Prometheus, Grafana) and the native smoke run that proves them."""
