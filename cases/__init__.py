"""Cases: complaints, callbacks and service requests with their SLA clocks on the Iranian
calendar, tasks, escalation, and the partners' API."""
