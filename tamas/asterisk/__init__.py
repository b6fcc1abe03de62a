"""Tamas's side of Asterisk: the sandbox (a real Asterisk 22 in a Debian sid root), the AMI
client, and the test caller that places calls through it."""
