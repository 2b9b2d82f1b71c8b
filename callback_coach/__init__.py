"""Run-time tooling of Callback Coach: the action-server entry point and the launcher."""
