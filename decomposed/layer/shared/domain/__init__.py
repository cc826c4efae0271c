"""Domain rules that know nothing of AWS: statuses, the execution lifecycle, request validation."""
