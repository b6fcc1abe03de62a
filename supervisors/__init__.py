"""Supervisors: the live wallboard of queues, agents and the IVR, actions on agents and calls,
alerts, and the reports computed from the same stored events."""
