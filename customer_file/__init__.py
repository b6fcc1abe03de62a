"""The customer file as the domain sees it: the port an adapter implements, the views it
returns, debt arithmetic and identifier rules. Pure Python, no I/O; adapters live in
`integrations/customer_file/`."""
