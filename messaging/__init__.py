"""Messaging's domain: two-way SMS (the insurer's text service), message length and encoding,
notices the core system triggers. The gateways' adapters live in integrations/messaging/."""
