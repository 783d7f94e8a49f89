"""Reports, statistics, logs and diagnosis: why a campaign or a lead waits."""
