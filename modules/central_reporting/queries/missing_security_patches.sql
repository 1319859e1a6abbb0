-- title: Missing Critical and Important security patches
-- description: Security patches (classification Security, SecurityUpdates or CriticalUpdates) of severity Critical or Important that are Missing or Failed on managed nodes that are not terminated, with the number of nodes and accounts affected.
WITH live AS (
  -- AWS:InstanceInformation names the node InstanceId (AWS's walkthrough table declares no
  -- ResourceId); syncs also write resourceId. Either joins the other types' resourceid.
  SELECT accountid, region, COALESCE(NULLIF(resourceid, ''), instanceid) AS resourceid
  FROM aws_instanceinformation
  WHERE COALESCE(instancestatus, '') <> 'Terminated'
)
SELECT
  ci.id AS patch_id,
  MAX(ci.title) AS title,
  ci.patchseverity,
  ci.classification,
  COUNT(DISTINCT ci.accountid || '/' || ci.region || '/' || ci.resourceid) AS nodes,
  COUNT(DISTINCT ci.accountid) AS accounts
FROM aws_complianceitem ci
JOIN live n
  ON n.accountid = ci.accountid AND n.region = ci.region AND n.resourceid = ci.resourceid
WHERE ci.compliancetype = 'Patch'
  AND ci.status = 'NON_COMPLIANT'
  AND ci.patchstate IN ('Missing', 'Failed')
  AND ci.patchseverity IN ('Critical', 'Important')
  AND ci.classification IN ('Security', 'SecurityUpdates', 'CriticalUpdates')
GROUP BY ci.id, ci.patchseverity, ci.classification
ORDER BY nodes DESC, patch_id
