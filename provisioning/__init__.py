"""Provisioning: from the site's inventory to a bundle per device, the hub's broker
files, and Raspberry Pi OS SD cards that set themselves up on first boot."""
