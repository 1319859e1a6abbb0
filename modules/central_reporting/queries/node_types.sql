-- title: Hybrid (mi-) and EC2 managed nodes
-- description: Managed nodes that are not terminated per account and Region: hybrid nodes registered with an activation (IDs starting mi-, Azure and on-premises) and EC2 instances.
SELECT
  accountid,
  region,
  count_if(resourceid LIKE 'mi-%') AS hybrid_nodes,
  count_if(resourceid NOT LIKE 'mi-%') AS ec2_nodes,
  COUNT(*) AS nodes
FROM aws_instanceinformation
WHERE COALESCE(instancestatus, '') <> 'Terminated'
GROUP BY accountid, region
ORDER BY accountid, region
