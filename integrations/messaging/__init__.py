"""Messages Tamas sends to customers (SMS, fax, email): written to an outbox table by whoever
asks for one (the IVR, an agent), and sent from there by a gateway adapter."""
