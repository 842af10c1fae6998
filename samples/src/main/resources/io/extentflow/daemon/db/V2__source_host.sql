-- The network host a job reads from ('host:port' of an nbd:// or http(s):// source; NULL for local
-- sources), for the fleet-wide limit of running jobs per source host (--max-jobs-per-source-host).
ALTER TABLE extentflow_jobs ADD COLUMN source_host text;

CREATE INDEX extentflow_jobs_running_by_host ON extentflow_jobs (source_host) WHERE state = 'running';
