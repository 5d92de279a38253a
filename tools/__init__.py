"""The tools people run beside the devices: demo, simulate, report, admin, check-site."""
