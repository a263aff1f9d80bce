"""The transport-agnostic coaching core: flows, dialogue engine, plan. Never imports telegram."""
