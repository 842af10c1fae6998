-- The fleet's jobs: one row per copy job, claimed by one daemon at a time under a lease.
CREATE TABLE extentflow_jobs (
    id            text        PRIMARY KEY,
    -- submission order: a daemon claims the oldest claimable job first
    seq           bigserial   NOT NULL UNIQUE,
    created       timestamptz NOT NULL,
    -- the request as POSTed (source, target, options)
    request       jsonb       NOT NULL,
    state         text        NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    -- the lease: the daemon running the job, until when, and which claim of the job this is.
    -- Every write of a running job's state names owner and generation, so a daemon whose lease
    -- expired and was taken over writes nothing.
    owner         text,
    generation    bigint      NOT NULL DEFAULT 0,
    lease_expires timestamptz,
    -- every byte below this offset is on the target's disk
    checkpoint    bigint      NOT NULL DEFAULT 0,
    claims        integer     NOT NULL DEFAULT 0,
    -- the job as the jobs API shows it, as of its last write (progress, result, error)
    view          jsonb       NOT NULL,
    finished_by   text,
    updated       timestamptz NOT NULL DEFAULT now()
);

-- the claim's search: queued jobs, and running ones whose lease may have expired
CREATE INDEX extentflow_jobs_claimable ON extentflow_jobs (seq) WHERE state IN ('queued', 'running');
