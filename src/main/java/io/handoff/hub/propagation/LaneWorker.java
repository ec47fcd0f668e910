package io.handoff.hub.propagation;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.jboss.logging.Logger;

/**
 * One system's lane: a thread of its own that takes due deliveries of its system from the queue, hands them to the
 * system's adapter, and records each outcome. Nothing it does waits on another system: a slow, rate-limiting or
 * down vendor holds up only its own lane.
 * <ul>
 * <li>retryable failures are tried again after an exponential backoff, or after the wait the vendor asked for;</li>
 * <li>a 429 (or Shopify's throttle) pauses the whole lane until the vendor's quota is back, since the quota is the
 * account's, not the delivery's;</li>
 * <li>after the last attempt, or at once for a refusal no retry can fix, the delivery is parked on the dead-letter
 * topic (and stays failed and replayable if Kafka is down at that moment: it is parked on a later turn).</li>
 * </ul>
 */
final class LaneWorker implements Runnable {

    private static final Logger LOG = Logger.getLogger(LaneWorker.class);
    private static final Duration TROUBLE_PAUSE = Duration.ofSeconds(2);
    /** Renews the claims of the batches in flight, for every lane (one short UPDATE each). */
    private static final ScheduledExecutorService RENEWALS = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lane-claim-renewal");
        t.setDaemon(true);
        return t;
    });

    private final SubscriberAdapter adapter;
    /** Ids the adapter found by lookup, linked with the batch's receipts (null: the adapter links none). */
    private final LaneLinks links;
    private final VendorClient client;
    private final Deliveries deliveries;
    private final DeadLetterParking parking;
    private final PropagationMetrics metrics;
    private final LaneSettings settings;
    private final Backoff backoff;
    private final int batchSize;
    private final int concurrency;
    private final java.util.concurrent.ExecutorService parallel;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition signal = lock.newCondition();
    private boolean woken;
    private volatile boolean running = true;
    private volatile Instant pausedUntil = Instant.EPOCH;
    private Thread thread;

    LaneWorker(SubscriberAdapter adapter, VendorClient client, Deliveries deliveries, DeadLetterParking parking,
            PropagationMetrics metrics, LaneSettings settings, LaneLinks links, int batchSize, int concurrency) {
        this.adapter = adapter;
        this.links = links;
        this.client = client;
        this.deliveries = deliveries;
        this.parking = parking;
        this.metrics = metrics;
        this.settings = settings;
        this.backoff = new Backoff(Duration.ofMillis(settings.initialBackoffMs()), Duration.ofMillis(settings.maxBackoffMs()));
        this.batchSize = batchSize;
        this.concurrency = Math.max(1, concurrency);
        this.parallel = this.concurrency == 1 ? null : java.util.concurrent.Executors.newFixedThreadPool(this.concurrency,
                new java.util.concurrent.ThreadFactory() {
                    private final java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();

                    @Override
                    public Thread newThread(Runnable r) {
                        Thread t = new Thread(r, "lane-" + adapter.system() + "-" + n.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    }
                });
    }

    String system() {
        return adapter.system();
    }

    void start() {
        thread = new Thread(this, "lane-" + adapter.system());
        thread.setDaemon(true);
        thread.start();
    }

    /** Work may be due: look now instead of at the next poll. */
    void wake() {
        lock.lock();
        try {
            woken = true;
            signal.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Finishes the batch in hand (up to the grace period), then stops. */
    void stop(Duration grace) {
        running = false;
        wake();
        if (thread != null) {
            try {
                thread.join(grace.toMillis());
                if (thread.isAlive()) {
                    thread.interrupt();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The claim on the batch in hand, counted from just before it was claimed ({@code since}): renewed every third of
     * its period; a call may start only while a call started now ends before the claim could run out (its period minus
     * the call's timeouts after the last renewal), and never once another replica took a delivery of the batch over.
     * Replicas' clocks must agree to within that margin.
     */
    private final class Hold {
        private final String token;
        private final int size;
        private final Duration ttl;
        private final long marginNanos;
        private volatile long heldUntil;
        private volatile boolean lost;

        Hold(String token, int size, Duration ttl, long since) {
            this.token = token;
            this.size = size;
            this.ttl = ttl;
            long margin = TimeUnit.MILLISECONDS.toNanos(settings.responseTimeoutMs() + settings.connectTimeoutMs());
            this.marginNanos = Math.min(margin, ttl.toNanos() / 2);
            this.heldUntil = since + ttl.toNanos() - marginNanos;
        }

        boolean held() {
            return !lost && System.nanoTime() < heldUntil;
        }

        void renew() {
            long asked = System.nanoTime();
            try {
                if (deliveries.renew(adapter.system(), token, ttl) < size) {
                    lost = true; // taken over: this lane's claim ran out before a renewal
                    LOG.warnf("propagation lane %s: claim %s was taken over; the rest of its batch is not sent",
                            adapter.system(), token);
                } else {
                    heldUntil = asked + ttl.toNanos() - marginNanos;
                }
            } catch (RuntimeException e) {
                // The database is unreachable: the claim runs out, and the batch is sent again (idempotently) later.
                LOG.debugf("propagation lane %s: claim %s not renewed (%s)", adapter.system(), token, e.getMessage());
            }
        }
    }

    Instant pausedUntil() {
        return pausedUntil;
    }

    @Override
    public void run() {
        LOG.debugf("propagation lane %s started", adapter.system());
        while (running) {
            try {
                Instant now = Instant.now();
                if (now.isBefore(pausedUntil)) {
                    idle(Duration.between(now, pausedUntil));
                    continue;
                }
                Duration quota = client.nextSlot();
                if (!quota.isZero()) {
                    // Wait for the quota before taking work: what arrives meanwhile goes out in the same call.
                    idle(quota);
                    continue;
                }
                long since = System.nanoTime();
                Deliveries.Claim claim = deliveries.claim(adapter.system(), batchSize,
                        Duration.ofMillis(settings.claimTtlMs()));
                if (claim.isEmpty()) {
                    parkFailed();
                    idle(Duration.ofMillis(settings.pollIntervalMs()));
                    continue;
                }
                List<Outcome> outcomes;
                List<Outcome> toPark = new java.util.ArrayList<>();
                Duration ttl = Duration.ofMillis(settings.claimTtlMs());
                Hold hold = new Hold(claim.token(), claim.deliveries().size(), ttl, since);
                long every = Math.max(1, ttl.toMillis() / 3);
                client.guard(hold::held);
                java.util.concurrent.ScheduledFuture<?> renewal = RENEWALS.scheduleAtFixedRate(hold::renew, every, every,
                        TimeUnit.MILLISECONDS);
                try {
                    outcomes = deliver(claim.deliveries());
                } finally {
                    renewal.cancel(false);
                    client.guard(() -> true);
                }
                try {
                    // One commit for the batch's receipts...
                    deliveries.transactions().executeWithoutResult(tx -> recordAll(outcomes, claim.token(), toPark));
                } catch (RuntimeException e) {
                    // ...and if that fails, one by one, so a receipt that cannot be stored does not undo the others.
                    toPark.clear();
                    for (Outcome outcome : outcomes) {
                        try {
                            deliveries.transactions().executeWithoutResult(
                                    tx -> recordAll(List.of(outcome), claim.token(), toPark));
                        } catch (RuntimeException one) {
                            LOG.warnf("propagation lane %s: the outcome of delivery %d could not be stored (%s); it is"
                                    + " sent again when its claim expires", adapter.system(), outcome.delivery().id(),
                                    one.getClass().getSimpleName());
                        }
                    }
                }
                // Parking is a Kafka send: only once the receipts are stored.
                toPark.forEach(o -> parking.park(o.delivery().id(), o.detail()));
            } catch (RuntimeException | Error e) {
                // The database or Kafka is unreachable (or worse): the claimed rows' claims expire and are taken
                // again; the lane itself keeps running.
                LOG.warnf("propagation lane %s: %s; trying again in %d s", adapter.system(), e.getClass().getSimpleName()
                        + ": " + e.getMessage(), TROUBLE_PAUSE.toSeconds());
                idle(TROUBLE_PAUSE);
            }
        }
        if (parallel != null) {
            parallel.shutdown();
        }
        LOG.debugf("propagation lane %s stopped", adapter.system());
    }

    /**
     * Hands the batch to the adapter: in one piece for an adapter that batches calls, else split into up to
     * {@code concurrency} parts by customer (one customer's deliveries stay in one part, in order) sent in parallel.
     */
    private List<Outcome> deliver(List<Delivery> batch) {
        List<Delivery> addresses = batch.stream().filter(Delivery::isAddress).toList();
        if (addresses.isEmpty()) {
            return deliverParts(batch, adapter::deliver);
        }
        List<Outcome> outcomes = new java.util.ArrayList<>();
        List<Delivery> readable = new java.util.ArrayList<>();
        for (Delivery d : addresses) {
            // A payload that cannot be read fails alone (parked), instead of failing the batch on every claim.
            if (AddressPayload.readable(d)) {
                readable.add(d);
            } else {
                outcomes.add(Outcome.failed(d, null, null, "unreadable address payload"));
            }
        }
        if (!readable.isEmpty()) {
            outcomes.addAll(deliverParts(readable, adapter::deliverAddresses));
        }
        List<Delivery> rest = batch.stream().filter(d -> !d.isAddress()).toList();
        if (!rest.isEmpty()) {
            outcomes.addAll(deliverParts(rest, adapter::deliver));
        }
        return outcomes;
    }

    private List<Outcome> deliverParts(List<Delivery> batch,
            java.util.function.BiFunction<List<Delivery>, VendorClient, List<Outcome>> send) {
        if (parallel == null || batch.size() == 1) {
            try {
                return send.apply(batch, client);
            } catch (RuntimeException e) {
                return failedPart(batch, e);
            }
        }
        java.util.Map<Integer, List<Delivery>> parts = new java.util.TreeMap<>();
        for (Delivery d : batch) {
            parts.computeIfAbsent(Math.floorMod(d.hubId().hashCode(), concurrency), k -> new java.util.ArrayList<>()).add(d);
        }
        List<java.util.concurrent.Future<List<Outcome>>> running = new java.util.ArrayList<>();
        List<List<Delivery>> sent = new java.util.ArrayList<>(parts.values());
        for (List<Delivery> part : sent) {
            running.add(parallel.submit(() -> send.apply(part, client)));
        }
        List<Outcome> outcomes = new java.util.ArrayList<>();
        for (int i = 0; i < running.size(); i++) {
            try {
                outcomes.addAll(running.get(i).get());
            } catch (java.util.concurrent.ExecutionException e) {
                // The other parts' calls were made: record them.
                outcomes.addAll(failedPart(sent.get(i), e.getCause()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return outcomes;
    }

    /**
     * An adapter that threw (a bug, a payload it cannot handle): the part's deliveries are retried like an unanswered
     * call, so they use up attempts and end parked, instead of being claimed again forever and holding back every
     * newer change of their customers.
     */
    private List<Outcome> failedPart(List<Delivery> part, Throwable error) {
        LOG.warnf("propagation lane %s: %d deliveries failed in the adapter: %s", adapter.system(), part.size(), error);
        String why = "adapter error: " + error.getClass().getSimpleName();
        return part.stream().map(d -> Outcome.retry(d, null, VendorAnswer.failure(why, 0), why, null)).toList();
    }

    private void recordAll(List<Outcome> outcomes, String claim, List<Outcome> toPark) {
        if (links != null) {
            links.flush();
        }
        // Confirmations, the bulk of a busy lane's outcomes, with JDBC batches; the rest one by one.
        List<Deliveries.Receipt> receipts = new java.util.ArrayList<>();
        for (Outcome outcome : outcomes) {
            if (outcome.kind() == Outcome.Kind.DELIVERED) {
                long callMillis = outcome.answer() == null ? 0 : outcome.answer().millis();
                receipts.add(new Deliveries.Receipt(outcome.delivery(), Deliveries.Evidence.of(outcome.request(),
                        outcome.answer(), outcome.detail()), callMillis));
            } else if (record(outcome, claim)) {
                toPark.add(outcome);
            }
        }
        if (receipts.isEmpty()) {
            return;
        }
        boolean[] recorded = deliveries.delivered(receipts, claim);
        Instant now = Instant.now();
        for (int i = 0; i < receipts.size(); i++) {
            Delivery d = receipts.get(i).delivery();
            if (!recorded[i]) {
                lost(d);
                continue;
            }
            metrics.delivered(d, Duration.between(d.receivedAt(), now));
            LOG.debugf("delivery %d (%s %s/%s for %s) confirmed by %s", d.id(), d.state() == null ? d.kind()
                    : d.state().wireName(), d.channel(), d.purpose(), d.hubId(), d.system());
        }
    }

    /**
     * Stores one outcome other than a confirmation (those go in batches, {@link #recordAll}) under the claim; true if
     * the delivery is now failed and must be parked.
     */
    private boolean record(Outcome outcome, String claim) {
        Delivery d = outcome.delivery();
        Deliveries.Evidence evidence = Deliveries.Evidence.of(outcome.request(), outcome.answer(), outcome.detail());
        long callMillis = outcome.answer() == null ? 0 : outcome.answer().millis();
        String status;
        switch (outcome.kind()) {
            case SKIPPED -> {
                if (!deliveries.skipped(d, claim, outcome.detail())) {
                    return lost(d);
                }
                metrics.outcome(d.system(), "skipped");
                return false;
            }
            case RETRY -> {
                int attempt = d.attempts() + 1;
                // A vendor that asked us to wait (429, throttling) is not failing: its waits do not use up attempts.
                if (attempt >= settings.maxAttempts() && outcome.retryAfter() == null) {
                    status = deliveries.failed(d, claim, evidence, callMillis,
                            "gave up after " + attempt + " attempts: " + outcome.detail());
                    return failed(d, status, evidence);
                }
                Duration wait = backoff.after(attempt, outcome.retryAfter());
                if (outcome.retryAfter() != null) {
                    // The quota is the account's: every call of this lane waits, not just this delivery.
                    Instant until = Instant.now().plus(outcome.retryAfter());
                    if (until.isAfter(pausedUntil)) {
                        pausedUntil = until;
                        LOG.infof("propagation lane %s paused for %d ms at the vendor's request", d.system(),
                                outcome.retryAfter().toMillis());
                    }
                }
                status = deliveries.retry(d, claim, evidence, callMillis, Instant.now().plus(wait));
                if (status == null) {
                    return lost(d);
                }
                metrics.outcome(d.system(), Deliveries.SUPERSEDED.equals(status) ? "superseded" : "retried");
                LOG.infof("delivery %d to %s: attempt %d failed (%s), %s", d.id(), d.system(), attempt,
                        outcome.answer() == null ? outcome.detail() : outcome.answer().summary(),
                        Deliveries.SUPERSEDED.equals(status) ? "superseded by a newer change"
                                : "next in " + wait.toMillis() + " ms");
                return false;
            }
            default -> {
                status = deliveries.failed(d, claim, evidence, callMillis, outcome.detail());
                return failed(d, status, evidence);
            }
        }
    }

    private boolean failed(Delivery d, String status, Deliveries.Evidence evidence) {
        if (status == null) {
            return lost(d);
        }
        if (Deliveries.SUPERSEDED.equals(status)) {
            metrics.outcome(d.system(), "superseded");
            return false;
        }
        metrics.outcome(d.system(), "failed");
        LOG.warnf("delivery %d to %s failed for good: %s", d.id(), d.system(), evidence.status() == null
                ? "no answer" : "HTTP " + evidence.status());
        return true;
    }

    private boolean lost(Delivery d) {
        LOG.warnf("delivery %d to %s: its claim expired and another lane took it over; this outcome is not recorded",
                d.id(), d.system());
        return false;
    }

    /** Parks failed deliveries the dead-letter topic could not take when they failed. */
    private void parkFailed() {
        // A few per idle turn: while Kafka is down each attempt blocks for the producer's timeout.
        for (Delivery d : deliveries.unparked(adapter.system(), 5)) {
            parking.park(d.id(), "parked late: the dead-letter topic was unreachable when it failed");
        }
    }

    private void idle(Duration duration) {
        lock.lock();
        try {
            long nanos = duration.toNanos();
            while (!woken && running && nanos > 0) {
                nanos = signal.awaitNanos(nanos);
            }
            woken = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        } finally {
            lock.unlock();
        }
    }
}
