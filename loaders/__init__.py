"""wpmi."""
