"""The monolithic DRS orchestrator: one Lambda serving the whole API and running the polling chain inline."""
