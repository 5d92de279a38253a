"""Fleet updates: a release put on the hub reaches every Pi of the centre over the LAN.

The technician publishes a release on the hub (`luot fleet publish`): the wheel goes into
the centre's repository and a retained `fleet/release` names it. Every Pi runs one
updater (`luot updater`, as root) that installs the release into a new versioned
virtualenv, waits for a quiet moment of each role on the Pi, switches the venv link,
restarts the role units, checks they came up, and rolls back by itself if not. One
device of each role goes first (the release's canaries); the rest follow once it reports
healthy.
"""
