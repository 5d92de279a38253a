"""The touch kiosk: a citizen chooses a service and leaves with a printed number."""
