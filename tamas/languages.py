"""The languages Tamas speaks to callers and shows to agents: Persian first, English and
Russian beside it. Every prompt, label and template exists in each of them."""

LANGUAGES = ("fa", "en", "ru")
