"""ExecutionHandlerFunction: the executions API, /health, and the asynchronous start worker."""
