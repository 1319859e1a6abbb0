"""Role check: every EC2 instance gets an instance profile whose role can reach AWS Systems Manager.

The Lambda behind the seed's second workflow. For each EC2 instance it looks at, it makes the
instance a managed node without taking anything away:

* no instance profile -> associate the configured SSM instance profile
  (``ec2:AssociateIamInstanceProfile``);
* a profile without a role -> add the configured SSM role to it (``iam:AddRoleToInstanceProfile``);
* a role without SSM permissions -> attach the configured AWS managed policy
  (``iam:AttachRolePolicy``, default ``AmazonSSMManagedInstanceCore``) and, when
  ``NODE_LOG_POLICY_ARN`` is set, that customer managed policy (the managed nodes' write access
  to the command-output log buckets, which the AWS managed policy lacks);
* a role with SSM permissions but without the configured node log policy -> attach only that;
* otherwise -> nothing. It never disassociates, replaces or detaches anything.

Modules: :mod:`.config` (environment variables), :mod:`.events` (the three trigger shapes),
:mod:`.policy` (does a policy document grant the SSM core actions), :mod:`.discovery` (paginated,
filtered reads with per-invocation caches), :mod:`.checker` (the decisions and changes),
:mod:`.summary` (outcomes and the per-invocation summary), :mod:`.handler` (the thin Lambda entry
point). Nothing here calls AWS at import time.
"""

__all__: list[str] = []
