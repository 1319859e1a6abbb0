-- title: Hybrid (mi-) and EC2 managed nodes
-- description: Managed nodes that are not terminated per account and Region: hybrid nodes registered with an activation (IDs starting mi-, Azure and on-premises) and EC2 instances.
WITH live AS (
  -- The node ID is InstanceId (AWS's walkthrough) or resourceId, whichever the record has.
  SELECT accountid, region, COALESCE(NULLIF(resourceid, ''), instanceid) AS nodeid
  FROM aws_instanceinformation
  WHERE COALESCE(instancestatus, '') <> 'Terminated'
)
SELECT
  accountid,
  region,
  count_if(nodeid LIKE 'mi-%') AS hybrid_nodes,
  count_if(nodeid NOT LIKE 'mi-%') AS ec2_nodes,
  COUNT(*) AS nodes
FROM live
GROUP BY accountid, region
ORDER BY accountid, region
