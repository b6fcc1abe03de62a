"""What an insurer's core system knows about its customers, as tables (the default adapter),
and the small interface the rest of the engine reads it through."""
