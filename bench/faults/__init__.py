"""Fault drills: the centre keeps every promise while its parts fail.

`.venv/bin/python -m bench.faults [--quick] [--trials N] [--corpus N]`, last line JSON.
- processes.py: the dispatcher (its own process) killed with SIGKILL at random points of a
  stream of takes and nexts, `--trials` times in all, and started again; Mosquitto restarted
  mid-stream (stopped, or SIGKILLed every other trial); the real `luot display` process cut
  off from the network (a proxy pulled like a cable) and plugged back;
- corpus.py: a corpus of hostile commands Hypothesis draws from the protocol's schema, sent
  as a kiosk, a counter and a display (a tenth retained, ids reused with other bodies) among
  the stream's valid commands;
- peers.py: the dispatcher away (killed, or frozen with its connection open) while devices
  press with their own short waits; spare devices taking the dispatcher's and the stream's
  client ids; the kiosk's printer failing mid-ticket;
- host.py: the hub's card filling up (a small tmpfs; root only) and its clock jumping days.

Counted over all drills, the target 0 each: `lost` (an acknowledged ticket missing from the
database, or with another number, or a waiting ticket expired by a jump), `duplicates` (a
number issued twice or skipped), `double_called` (one ticket called to two counters),
`stuck` (a client whose retained state, or the display's board, did not match the database
within 5 s of recovery, or a drill's own check failing), `refused` (a valid command refused
for a reason the drill did not cause), `crashes` (the dispatcher process exited by itself),
`late_effects` (a command carried out after its sender was told it failed), `unanswered` (a
command that got neither a reply nor an expiry). Clients send each command until it is
answered, with the same id every time: the dispatcher answers a repeated id with its
stored reply.
"""
