"""Check, apply and revert llmbench's unified-diff patches against an installed vLLM."""
