"""What the decomposed functions share: domain rules, API plumbing, repositories and AWS gateways."""
