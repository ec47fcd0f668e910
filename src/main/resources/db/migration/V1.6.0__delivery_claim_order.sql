-- The lanes' work queue in the order a lane claims it: (system, status) then oldest due first, ties by id. With id
-- in the index, a claim reads the index in order and stops after its batch (H2 "index sorted", PostgreSQL an index
-- scan with a limit); without it, both databases read and sorted every waiting row of the system on each claim, which
-- made a claim cost grow with the backlog (docs/benchmarks.md, 2026-12-05).
DROP INDEX delivery_due;
CREATE INDEX delivery_due ON delivery (system, status, next_attempt_at, id);
