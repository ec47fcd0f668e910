-- Suppression reconciliation: runs, per-system progress and totals, the staged vendor lists, the drift found and the
-- repair plan, and the claims that make a scheduled run happen on one replica only. Runs on H2 (PostgreSQL mode) and
-- PostgreSQL.

-- One run over one or more systems. trigger: api or schedule. status: running, completed, failed (some system failed;
-- the others' reports stand). applied_at: when the repair plan was sent (null: a dry run not applied yet).
CREATE TABLE reconciliation_run (
    id           VARCHAR(36)   NOT NULL,
    systems      VARCHAR(1000) NOT NULL,
    trigger_kind VARCHAR(16)   NOT NULL,
    dry_run      BOOLEAN       NOT NULL,
    status       VARCHAR(16)   NOT NULL,
    started_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    finished_at  TIMESTAMP WITH TIME ZONE,
    applied_at   TIMESTAMP WITH TIME ZONE,
    error        VARCHAR(1000),
    owner        VARCHAR(128)  NOT NULL,
    heartbeat_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT reconciliation_run_pk PRIMARY KEY (id)
);
CREATE INDEX reconciliation_run_started ON reconciliation_run (started_at);

-- One row per system being reconciled right now: the primary key keeps two runs of one system (two replicas, a
-- double request) from running at once. Released when the system's part of the run ends, or when the run is found
-- abandoned (its heartbeat stopped).
CREATE TABLE reconciliation_lock (
    system    VARCHAR(63)  NOT NULL,
    run_id    VARCHAR(36)  NOT NULL,
    locked_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT reconciliation_lock_pk PRIMARY KEY (system)
);

-- One system of a run: paging progress (cursor of the next page, so a failed page is fetched again, not the list from
-- the start), then the totals of the comparison and of the repair.
CREATE TABLE reconciliation_system (
    run_id             VARCHAR(36)   NOT NULL,
    system             VARCHAR(63)   NOT NULL,
    status             VARCHAR(16)   NOT NULL,
    pages              INT           NOT NULL,
    page_retries       INT           NOT NULL,
    pulled             BIGINT        NOT NULL,
    next_cursor        VARCHAR(4000),
    ledger_opted_out   BIGINT,
    system_suppressed  BIGINT,
    in_agreement       BIGINT,
    would_mail         BIGINT,
    ledger_subscribed  BIGINT,
    ledger_undecided   BIGINT,
    unknown_to_hub     BIGINT,
    repairs_sent       BIGINT,
    learned            BIGINT,
    started_at         TIMESTAMP WITH TIME ZONE NOT NULL,
    pulled_at          TIMESTAMP WITH TIME ZONE,
    finished_at        TIMESTAMP WITH TIME ZONE,
    error              VARCHAR(1000),
    CONSTRAINT reconciliation_system_pk PRIMARY KEY (run_id, system)
);

-- What a system lists as suppressed/opted out is staged, while its pages arrive, in a table of the run's own
-- (reconciliation_stage_<hash of run and system>: email primary key, system_id, state, reason, suppressed_at), created
-- by the hub and dropped once compared: the comparison runs in the database, so a list of millions never sits in the
-- JVM heap, and dropping the table is immediate where deleting a million rows is not.

-- One contact in drift, with the repair planned for it.
-- category: would-mail (the ledger holds an opt-out the system does not: it would mail them), ledger-subscribed (the
--           system suppresses a customer the ledger holds as subscribed), ledger-undecided (suppressed there, no
--           decision in the ledger), unknown-to-hub.
-- action:   send-ledger-state (a delivery through the system's lane), learn (a consent.changed from that system to the
--           ledger, which then propagates), none (reported only; action_reason says why).
-- action_status: planned, applying (claimed by an apply), sent, skipped (at apply time, e.g. a delivery already on its
--           way, or the ledger changed since the run).
CREATE TABLE reconciliation_drift (
    run_id        VARCHAR(36)  NOT NULL,
    system        VARCHAR(63)  NOT NULL,
    email         VARCHAR(320) NOT NULL,
    category      VARCHAR(24)  NOT NULL,
    hub_id        VARCHAR(36),
    system_id     VARCHAR(255),
    ledger_state  VARCHAR(16),
    ledger_time   TIMESTAMP WITH TIME ZONE,
    system_state  VARCHAR(16),
    system_reason VARCHAR(32),
    system_time   TIMESTAMP WITH TIME ZONE,
    action        VARCHAR(24)  NOT NULL,
    action_reason VARCHAR(255),
    action_status VARCHAR(16)  NOT NULL,
    action_ref    VARCHAR(128),
    CONSTRAINT reconciliation_drift_pk PRIMARY KEY (run_id, system, email)
);
CREATE INDEX reconciliation_drift_category ON reconciliation_drift (run_id, system, category);

-- A scheduled job's fire claimed by one replica: the replica whose insert wins runs it, every other one skips it.
CREATE TABLE scheduled_fire (
    job        VARCHAR(128) NOT NULL,
    fire_time  TIMESTAMP WITH TIME ZONE NOT NULL,
    claimed_by VARCHAR(128) NOT NULL,
    claimed_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT scheduled_fire_pk PRIMARY KEY (job, fire_time)
);
