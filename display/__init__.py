"""The hallway displays: the TV board with spoken calls (`luot display`) and the LED board node."""

import os

# pygame prints a banner on import; a service's journal does not need it.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
