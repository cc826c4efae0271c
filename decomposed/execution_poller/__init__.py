"""ExecutionPollerFunction: polls one execution's DRS jobs, enriches servers, applies wave and execution rules."""
