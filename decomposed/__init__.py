"""The decomposed DRS orchestrator: one Lambda per job, sharing a small library (decomposed.shared)."""
