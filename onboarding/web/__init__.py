"""The web layer: one blueprint per module. Views check access, call services, render."""
