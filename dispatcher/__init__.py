"""The queue authority on the hub: the only place numbers and calls are decided."""
