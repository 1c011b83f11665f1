"""The operator's side: configuration, logs, metrics, live reloads and the start-up cache."""
