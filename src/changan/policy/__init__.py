"""The policy table: what each detection becomes (alert, violation for review, both, or a statistic)."""
