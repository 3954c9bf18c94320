"""The Agents page (built by the agent work)."""
