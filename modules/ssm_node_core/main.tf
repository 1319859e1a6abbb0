# The SSM core actions of a fleetpatch managed node: register and heartbeat, the two command
# channels, associations, patching and inventory — exactly the role check's REQUIRED_ACTIONS
# (lambda_src/ssm_role_check/policy.py; tests/unit/role_check/test_node_core_policy.py keeps the
# two lists equal). A subset of AmazonSSMManagedInstanceCore, which also grants
# ssm:GetParameter(s) on every parameter of the account.
locals {
  actions = [
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
    "ssm:DescribeAssociation",
    "ssm:GetDeployablePatchSnapshotForInstance",
    "ssm:GetDocument",
    "ssm:ListInstanceAssociations",
    "ssm:PutComplianceItems",
    "ssm:PutInventory",
    "ssm:UpdateInstanceAssociationStatus",
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
  ]
}
