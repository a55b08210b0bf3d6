"""The notifications domain: tasks and the in-app feed, as plain data and rules."""
