-- title: Where an application version is installed
-- description: Managed nodes that are not terminated with an application installed, per account, Region and version. Parameters: the application name (case-insensitive, e.g. openssl) and a version pattern for LIKE (e.g. 3.0.% or % for every version).
-- params: application_name, version_pattern
WITH live AS (
  -- AWS:InstanceInformation names the node InstanceId (AWS's walkthrough table declares no
  -- ResourceId); syncs also write resourceId. Either joins the other types' resourceid.
  SELECT accountid, region, COALESCE(NULLIF(resourceid, ''), instanceid) AS resourceid
  FROM aws_instanceinformation
  WHERE COALESCE(instancestatus, '') <> 'Terminated'
)
SELECT
  a.accountid,
  a.region,
  a.name,
  a.version,
  COUNT(DISTINCT a.resourceid) AS nodes
FROM aws_application a
JOIN live n
  ON n.accountid = a.accountid AND n.region = a.region AND n.resourceid = a.resourceid
WHERE lower(a.name) = lower(?)
  AND a.version LIKE ?
GROUP BY a.accountid, a.region, a.name, a.version
ORDER BY a.name, a.version, a.accountid, a.region
