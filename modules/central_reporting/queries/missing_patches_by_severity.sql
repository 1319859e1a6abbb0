-- title: Missing patches by severity
-- description: Patches that are Missing or Failed on managed nodes that are not terminated, counted per patch severity (vendor severity; empty shown as Unspecified), with the number of nodes affected.
WITH live AS (
  -- AWS:InstanceInformation names the node InstanceId (AWS's walkthrough table declares no
  -- ResourceId); syncs also write resourceId. Either joins the other types' resourceid.
  SELECT accountid, region, COALESCE(NULLIF(resourceid, ''), instanceid) AS resourceid
  FROM aws_instanceinformation
  WHERE COALESCE(instancestatus, '') <> 'Terminated'
)
SELECT
  COALESCE(NULLIF(ci.patchseverity, ''), 'Unspecified') AS patchseverity,
  COUNT(*) AS missing_patches,
  COUNT(DISTINCT ci.accountid || '/' || ci.region || '/' || ci.resourceid) AS nodes
FROM aws_complianceitem ci
JOIN live n
  ON n.accountid = ci.accountid AND n.region = ci.region AND n.resourceid = ci.resourceid
WHERE ci.compliancetype = 'Patch'
  AND ci.status = 'NON_COMPLIANT'
  AND ci.patchstate IN ('Missing', 'Failed')
GROUP BY 1
ORDER BY missing_patches DESC, patchseverity
