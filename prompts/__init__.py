"""Spoken prompts: text to speech (espeak-ng offline, gTTS online), cached by content hash,
and the number, amount and date words Asterisk cannot say in Persian or Russian."""
