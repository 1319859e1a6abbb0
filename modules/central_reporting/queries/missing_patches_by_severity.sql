-- title: Missing patches by severity
-- description: Patches that are Missing or Failed on managed nodes that are not terminated, counted per patch severity (vendor severity; empty shown as Unspecified), with the number of nodes affected.
WITH live AS (
  SELECT accountid, region, resourceid
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
