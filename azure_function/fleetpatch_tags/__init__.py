"""Azure VM tag enforcement and tag export for fleetpatch.

Every configured subscription's VMs are listed (Compute ``virtualMachines`` List All), the
required tags each VM lacks are added with the Tags API *merge* operation (never replace, never
overwrite, never delete), and every VM's tags are exported as JSON Lines and CSV to a blob
container. The same logic runs in the Function app (``function_app.py``) and in the Azure
Automation runbook (``runbook/enforce_vm_tags.py``); this package never imports
``azure.functions`` and runs on Python 3.10 (the Automation runtime) as well as 3.11.
"""

__version__ = "0.1.0"
