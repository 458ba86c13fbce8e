"""Alerts: inbound formats (`alerts.formats`), dedup and grouping, silences."""
