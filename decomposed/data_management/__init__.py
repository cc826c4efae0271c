"""DataManagementFunction: protection groups and recovery plans."""
