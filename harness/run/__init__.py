"""Running one side: driving a scenario through a world step by step and capturing what it shows."""
