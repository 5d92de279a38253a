"""The hub's web service (`luot web`): ticket pages, officers' consoles, the leader's dashboard
and the board, for browsers that cannot speak MQTT to the hub's broker."""
