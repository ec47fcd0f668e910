package io.handoff.hub.persistence;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.springframework.dao.DataIntegrityViolationException;

/**
 * The webhook delivery ids, stored off the request path in batches: one {@code INSERT} batch and one commit for the
 * ids of the webhooks acknowledged within {@link #LINGER} of each other (or while the previous batch was written),
 * instead of one commit per webhook on the thread that answers it (JFR: the per-webhook claim was where intake's time
 * went, docs/benchmarks.md).
 * <p>
 * {@link #add(String)} (called once Kafka acknowledged the event, publish-event.yaml) only queues the id; until its
 * batch is committed, this replica's {@link #contains(String)} still answers it from memory, so a platform's retry
 * to this replica is answered "duplicate" as before. A retry reaching another replica in the 100 ms or so before
 * the batch lands, or after a crash that lost the queue, is published again with the same CloudEvent id, which every
 * consumer deduplicates: the same at-least-once as a retry racing its first delivery (docs/architecture.md). While the
 * database is down the batch is retried, and {@code contains} fails, so intake answers 503 and queues nothing new.
 */
public class BatchedIdempotentRepository extends SqlIdempotentRepository {

    /** The most ids one commit stores. */
    static final int BATCH = 500;
    /** The wait before a batch the database refused is tried again. */
    static final Duration RETRY = Duration.ofSeconds(1);
    /** How long the writer waits for an id before it looks whether it is stopping. */
    static final Duration POLL = Duration.ofMillis(200);
    /**
     * How long the writer gathers ids after the first of a batch, so the ids take at most ten commits a second (JFR
     * under 200 webhooks/s: a commit for every two or three ids was the largest single user of H2's page writes).
     * Until its batch is stored, this replica answers a retry from memory.
     */
    static final Duration LINGER = Duration.ofMillis(100);

    private final Set<String> unstored = ConcurrentHashMap.newKeySet();
    private final BlockingQueue<String> queue = new LinkedBlockingQueue<>();
    private final Object writing = new Object();
    private volatile Thread writer;
    /** Set on the way down: from then on ids are stored at once. */
    private volatile boolean stopped;

    public BatchedIdempotentRepository(DataSource dataSource, String processorName) {
        super(dataSource, processorName);
    }

    /**
     * Queues the id for its batch. Answers false only for an id still queued: the database is not asked here, the
     * idempotent consumer asked {@link #contains(String)} before the send ({@code eager: false}).
     */
    @Override
    public boolean add(String key) {
        if (stopped) {
            // No writer any more (the route stopped): stored at once, as Camel's repository does.
            return super.add(key);
        }
        if (!unstored.add(key)) {
            return false;
        }
        queue.add(key);
        return true;
    }

    @Override
    public boolean contains(String key) {
        return unstored.contains(key) || super.contains(key);
    }

    @Override
    public boolean remove(String key) {
        boolean queued = unstored.remove(key) && queue.remove(key);
        return super.remove(key) || queued;
    }

    @Override
    public void clear() {
        queue.clear();
        unstored.clear();
        super.clear();
    }

    /** The ids acknowledged but not stored yet. */
    public int unstored() {
        return unstored.size();
    }

    /** Stores every queued id now (shutdown); answers how many it stored. */
    public int flush() {
        synchronized (writing) {
            int stored = 0;
            List<String> batch = new ArrayList<>();
            while (queue.drainTo(batch, BATCH) > 0) {
                stored += store(batch);
            }
            return stored;
        }
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        stopped = false;
        Thread thread = new Thread(this::write, "webhook-delivery-ids");
        thread.setDaemon(true);
        writer = thread;
        thread.start();
    }

    @Override
    protected void doStop() throws Exception {
        // Not interrupted: an interrupt in the middle of a write can close H2's file channel. It sees the flag
        // within one poll, or after the batch it is writing.
        stopped = true;
        Thread thread = writer;
        writer = null;
        if (thread != null) {
            thread.join(TimeUnit.SECONDS.toMillis(5) + RETRY.toMillis());
            if (thread.isAlive()) {
                log.warn("the webhook delivery id writer is still writing a batch; the flush waits for it");
            }
        }
        try {
            flush();
        } catch (RuntimeException e) {
            log.warn("{} webhook delivery ids not stored on the way down ({}): a retry of those webhooks is published"
                    + " again and deduplicated by the consumers", unstored.size(), e.getClass().getSimpleName());
        }
        super.doStop();
    }

    private void write() {
        List<String> batch = new ArrayList<>();
        while (writer == Thread.currentThread()) {
            try {
                String first = queue.poll(POLL.toMillis(), TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                gather(batch);
                synchronized (writing) {
                    store(batch);
                }
            } catch (InterruptedException e) {
                // Ids gathered but not stored go back to the queue, where the flush on the way down finds them.
                queue.addAll(batch);
                batch.clear();
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // Database unreachable (no connection, no transaction) or refusing: the batch is back in the queue,
                // where the next try or the flush on the way down finds it.
                log.warn("{} webhook delivery ids not stored yet ({}); trying again in {} ms", unstored.size(),
                        e.getClass().getSimpleName(), RETRY.toMillis());
                try {
                    TimeUnit.MILLISECONDS.sleep(RETRY.toMillis());
                } catch (InterruptedException stopping) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Adds what arrives within {@link #LINGER} of the batch's first id, up to {@link #BATCH} ids. */
    private void gather(List<String> batch) throws InterruptedException {
        long until = System.nanoTime() + LINGER.toNanos();
        while (batch.size() < BATCH) {
            queue.drainTo(batch, BATCH - batch.size());
            long left = until - System.nanoTime();
            if (batch.size() >= BATCH || left <= 0) {
                return;
            }
            String next = queue.poll(left, TimeUnit.NANOSECONDS);
            if (next == null) {
                return;
            }
            batch.add(next);
        }
    }

    /**
     * One batch, one commit; ids another replica stored meanwhile are skipped one by one. Empties the batch: stored,
     * or back in the queue if the database refused it. Answers how many it stored.
     */
    private int store(List<String> batch) {
        Timestamp now = Timestamp.from(Instant.now());
        List<Object[]> rows = batch.stream().map(key -> new Object[] { processorName, key, now }).toList();
        try {
            try {
                transactionTemplate.executeWithoutResult(tx -> jdbcTemplate.batchUpdate(getInsertString(), rows));
            } catch (DataIntegrityViolationException storedElsewhere) {
                batch.forEach(super::add);
            }
        } catch (RuntimeException e) {
            queue.addAll(batch);
            batch.clear();
            throw e;
        }
        batch.forEach(unstored::remove);
        int stored = batch.size();
        batch.clear();
        return stored;
    }
}
