-- title: Patch compliance by account, Region and patch group
-- description: Managed nodes that are not terminated, per account, Region and patch group, split into COMPLIANT, NON_COMPLIANT and not scanned (no Patch compliance summary yet).
WITH live AS (
  -- AWS:InstanceInformation names the node InstanceId (AWS's walkthrough table declares no
  -- ResourceId); syncs also write resourceId. Either joins the other types' resourceid.
  SELECT accountid, region, COALESCE(NULLIF(resourceid, ''), instanceid) AS resourceid
  FROM aws_instanceinformation
  WHERE COALESCE(instancestatus, '') <> 'Terminated'
),
patch AS (
  SELECT accountid, region, resourceid, status, patchgroup
  FROM aws_compliancesummary
  WHERE compliancetype = 'Patch'
),
grouptag AS (
  SELECT accountid, region, resourceid, MAX(value) AS patchgroup
  FROM aws_tag
  WHERE key IN ('PatchGroup', 'Patch Group')
  GROUP BY accountid, region, resourceid
)
SELECT
  n.accountid,
  n.region,
  COALESCE(NULLIF(p.patchgroup, ''), NULLIF(t.patchgroup, ''), '(none)') AS patchgroup,
  COUNT(*) AS nodes,
  count_if(COALESCE(p.status = 'COMPLIANT', false)) AS compliant,
  count_if(COALESCE(p.status = 'NON_COMPLIANT', false)) AS noncompliant,
  count_if(p.status IS NULL) AS not_scanned,
  ROUND(100.0 * count_if(COALESCE(p.status = 'COMPLIANT', false)) / COUNT(*), 1) AS compliant_pct
FROM live n
LEFT JOIN patch p
  ON p.accountid = n.accountid AND p.region = n.region AND p.resourceid = n.resourceid
LEFT JOIN grouptag t
  ON t.accountid = n.accountid AND t.region = n.region AND t.resourceid = n.resourceid
GROUP BY 1, 2, 3
ORDER BY noncompliant DESC, accountid, region, patchgroup
