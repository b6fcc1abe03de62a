"""Deterministic demo data for the customer file: `tamas demo-data --customers N --seed S`.

Pure generators (`names`, `identities`, `network`, `portfolio`, `showcase_records`) build rows;
`writer` inserts them chunk by chunk; `showcase.SHOWCASE` names the records to try by phone.
"""
