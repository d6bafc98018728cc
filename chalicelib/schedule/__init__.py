"""Scheduled launch plans: schedule expressions (cron.py), and what one scheduled tick starts (tick.py,
handler.py). This package ships in Lambda: it imports neither the authoring SDK nor pandas."""
