-- title: Managed nodes that have not reported for 7 days
-- description: Managed nodes that are not terminated whose last inventory (AWS:InstanceInformation capture time) is more than 7 days old: stopped instances, broken agents, lost hybrid connections.
SELECT
  accountid,
  region,
  -- The node ID is InstanceId (AWS's walkthrough) or resourceId, whichever the record has.
  COALESCE(NULLIF(resourceid, ''), instanceid) AS resourceid,
  CAST(floor((to_unixtime(current_timestamp) - to_unixtime(from_iso8601_timestamp(capturetime)))
    / 86400) AS bigint) AS days_silent,
  capturetime AS last_reported,
  instancestatus,
  computername,
  platformname
FROM aws_instanceinformation
WHERE COALESCE(instancestatus, '') <> 'Terminated'
  AND from_iso8601_timestamp(capturetime) < current_timestamp - INTERVAL '7' DAY
ORDER BY days_silent DESC, accountid, region, 3
