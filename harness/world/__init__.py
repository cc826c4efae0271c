"""The emulated AWS world: backends, stack deploy, function host, DRS emulator, IAM enforcement and the virtual clock."""
