"""ExecutionFinderFunction: each minute, finds executions due for a poll and invokes the poller for them."""
