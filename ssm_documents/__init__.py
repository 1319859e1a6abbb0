"""fleetpatch SSM documents: Automation document sources, step scripts and their renderer."""
