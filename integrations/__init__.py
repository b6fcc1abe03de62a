"""The customer file and the outside systems: the insurer's core data behind one adapter
interface (our own tables by default), SMS gateways, registries."""
