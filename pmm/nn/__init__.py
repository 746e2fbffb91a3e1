"""Standard neural-network layers as pmm modules."""
