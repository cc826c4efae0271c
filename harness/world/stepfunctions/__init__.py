"""A small deterministic Amazon States Language interpreter: definitions, paths, intrinsics, choices, executions."""
