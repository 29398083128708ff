"""Services that pass data between the middle packages and commit: the daily run, the demo
build, and (later) alerts, tasks and notifications."""
