package io.handoff.hub.propagation;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.junit.jupiter.api.Test;

import io.handoff.hub.consent.ConsentLedger;
import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.support.HubTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * What a lane may claim when a replica died with deliveries in flight: those first (their claim ran out), and nothing
 * newer of the same customer until they are finished, so a change made meanwhile never overtakes them. The rows
 * belong to a system no lane serves, so only the test claims them.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class DeliveryClaimsTest {

    static final Duration TTL = Duration.ofMinutes(1);

    @Inject
    Deliveries deliveries;

    @Inject
    @Named("hubDataSource")
    DataSource dataSource;

    @Test
    void aDeliveryLeftInFlightByADeadReplicaGoesOutBeforeTheCustomersNewerChange() throws SQLException {
        String system = newSystem();
        String customer = UUID.randomUUID().toString();
        Instant now = Instant.now();
        // The opt-out was being sent by a replica that died (claim ran out); the opt-in came after and is due.
        long optOut = insert(system, customer, "unsubscribed", "sending", now.minusSeconds(120), now.minusSeconds(5));
        long optIn = insert(system, customer, "subscribed", "pending", now.minusSeconds(1), null);

        assertEquals(List.of(optOut), ids(deliveries.claim(system, 10, TTL)),
                "only the opt-out is taken over; the opt-in waits behind it");
        assertEquals(List.of(), ids(deliveries.claim(system, 10, TTL)), "the opt-out is claimed again, still open");

        finish(optOut);
        assertEquals(List.of(optIn), ids(deliveries.claim(system, 10, TTL)), "once it is finished, the opt-in goes");
    }

    @Test
    void aDeliveryLeftInFlightIsTakenOverEvenWhenNewWorkFillsTheBatch() throws SQLException {
        String system = newSystem();
        Instant now = Instant.now();
        long stranded = insert(system, UUID.randomUUID().toString(), "unsubscribed", "sending", now.minusSeconds(300),
                now.minusSeconds(1));
        insert(system, UUID.randomUUID().toString(), "unsubscribed", "pending", now.minusSeconds(600), null);

        assertEquals(List.of(stranded), ids(deliveries.claim(system, 1, TTL)),
                "a batch of one takes the stranded delivery, not the older-planned new one");
    }

    @Test
    void aDeliveryBeingSentWhenAChangeSupersedesItIsNotTriedAgain() throws SQLException {
        String system = newSystem();
        Instant now = Instant.now();
        String edited = UUID.randomUUID().toString();
        String other = UUID.randomUUID().toString();
        insert(system, edited, "subscribed", "pending", now.minusSeconds(2), null);
        insert(system, other, "subscribed", "pending", now.minusSeconds(1), null);
        Deliveries.Claim claim = deliveries.claim(system, 10, TTL);
        assertEquals(2, claim.deliveries().size());

        // An edit made in the system itself (no delivery to it is planned) while both calls are in flight.
        assertEquals(0, deliveries.supersedeOlder(Delivery.KIND_CONSENT, "crm-edit:e1", edited, "email", "marketing",
                List.of(system)), "a delivery being sent stays claimed: nothing may overtake it");
        Instant next = now.plusSeconds(1);
        assertEquals(Deliveries.SUPERSEDED, deliveries.retry(claim.deliveries().get(0), claim.token(), UNAVAILABLE,
                5, next), "the failed call of the edited customer is not tried again");
        assertEquals(Deliveries.PENDING, deliveries.retry(claim.deliveries().get(1), claim.token(), UNAVAILABLE, 5,
                next), "the other customer's call is");
        assertEquals(Optional.of(Deliveries.SUPERSEDED), deliveries.status(claim.deliveries().get(0).id()));
        assertEquals(Optional.of(Deliveries.PENDING), deliveries.status(claim.deliveries().get(1).id()));
    }

    @Test
    void aChangeMarkingADeliveryInATransactionNotYetCommittedIsWaitedForByTheRetry() throws Exception {
        String system = newSystem();
        String edited = UUID.randomUUID().toString();
        Deliveries.Claim claim = claimOne(system, edited);
        // The edit's consumer marks the delivery in its batch's transaction and has not committed yet, when the lane
        // records the failed call: it waits for the mark instead of overwriting it.
        String retried = whileOpen(() -> editIn(system, edited, "e2"), () -> failedCall(claim));
        assertEquals(Deliveries.SUPERSEDED, retried, "the call failed after the edit: it is not tried again");
        assertEquals(Optional.of(Deliveries.SUPERSEDED), deliveries.status(claim.deliveries().get(0).id()));
    }

    /**
     * The other way round: a change supersedes a customer's waiting delivery while a lane's transaction is recording
     * that delivery's failed call (sending -> pending, not committed yet). The change waits for it and supersedes the
     * delivery, instead of reading it as neither waiting nor being sent and leaving it to be tried again (CI on
     * PostgreSQL: a CRM edit's waiting write was retried after the edit).
     */
    @Test
    void aChangeSupersedingWhileALaneRecordsTheFailedCallSupersedesTheDelivery() throws Exception {
        String system = newSystem();
        String edited = UUID.randomUUID().toString();
        Deliveries.Claim claim = claimOne(system, edited);
        int superseded = whileOpen(() -> assertEquals(Deliveries.PENDING, failedCall(claim)),
                () -> deliveries.transactions().execute(tx -> editIn(system, edited, "e4")));
        assertEquals(1, superseded, "the recorded delivery is superseded by the change");
        assertEquals(Optional.of(Deliveries.SUPERSEDED), deliveries.status(claim.deliveries().get(0).id()));
    }

    /**
     * A change is planned once per system: a redelivered ledger event, the same row twice in one batch, and two
     * replicas planning it at the same moment each leave one delivery (the lookup table's unique key decides, and a
     * refused row's delivery is removed again before the commit).
     */
    @Test
    void aChangePlannedTwiceForASystemIsOneDelivery() throws Exception {
        String system = newSystem();
        String customer = UUID.randomUUID().toString();
        Deliveries.Planned once = planned("change-" + UUID.randomUUID(), system, customer);
        Deliveries.Planned other = planned("change-" + UUID.randomUUID(), system, customer);
        deliveries.insertNew(List.of(once, other, once));
        assertEquals(false, deliveries.insert(once), "a redelivered change inserts nothing");
        assertEquals(1, count("SELECT COUNT(*) FROM delivery WHERE change_id = ?", once.changeId()));
        assertEquals(1, count("SELECT COUNT(*) FROM delivery WHERE change_id = ?", other.changeId()));
        long id = deliveries.idOf(once.changeId(), system).orElseThrow();
        assertEquals(Optional.of(id), deliveries.find(id).map(Delivery::id), "the key names the delivery row");

        Deliveries.Planned raced = planned("change-" + UUID.randomUUID(), system, customer);
        ExecutorService replicas = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> tries = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                tries.add(replicas.submit(() -> {
                    go.await();
                    return deliveries.insert(raced);
                }));
            }
            go.countDown();
            int won = 0;
            for (Future<Boolean> t : tries) {
                won += t.get(30, TimeUnit.SECONDS) ? 1 : 0;
            }
            assertEquals(1, won, "one replica plans the change");
        } finally {
            replicas.shutdownNow();
        }
        assertEquals(1, count("SELECT COUNT(*) FROM delivery WHERE change_id = ?", raced.changeId()));
        assertEquals(3, count("SELECT COUNT(*) FROM delivery_key WHERE system = ?", system));
        assertEquals(3, count("SELECT COUNT(*) FROM delivery WHERE system = ?", system),
                "no delivery without its key is left behind");
    }

    private static Deliveries.Planned planned(String changeId, String system, String customer) {
        Instant at = Instant.now().minusSeconds(1);
        return new Deliveries.Planned(changeId, system, Delivery.KIND_CONSENT, customer, "email", "marketing",
                ConsentState.UNSUBSCRIBED, null, null, null, "shopify", "/systems/shopify#" + changeId, at, at,
                Deliveries.PENDING, null);
    }

    private static String newSystem() {
        return "claims-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** A waiting opt-in of the customer to the system, claimed by the test as a lane would. */
    private Deliveries.Claim claimOne(String system, String customer) throws SQLException {
        insert(system, customer, "subscribed", "pending", Instant.now().minusSeconds(1), null);
        Deliveries.Claim claim = deliveries.claim(system, 10, TTL);
        assertEquals(1, claim.deliveries().size());
        return claim;
    }

    /** An edit made in the system itself: supersedes what waits for it of the customer; answers how many. */
    private int editIn(String system, String customer, String edit) {
        return deliveries.supersedeOlder(Delivery.KIND_CONSENT, "crm-edit:" + edit, customer, "email", "marketing",
                List.of(system));
    }

    /** Records the claimed delivery's call as failed, to be tried again; answers its status after. */
    private String failedCall(Deliveries.Claim claim) {
        return deliveries.retry(claim.deliveries().get(0), claim.token(), UNAVAILABLE, 5, Instant.now().plusSeconds(1));
    }

    private static final Deliveries.Evidence UNAVAILABLE = new Deliveries.Evidence("PATCH", "http://crm/x", "{}", 503,
            "down", null);

    /**
     * Runs {@code first} in a transaction held open, then {@code second} on another thread, which must wait for that
     * transaction (still waiting 300 ms later); commits the first and answers what the second answered.
     */
    private <T> T whileOpen(Runnable first, java.util.concurrent.Callable<T> second) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch commit = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<?> open = threads.submit(() -> deliveries.transactions().execute(tx -> {
                first.run();
                done.countDown();
                try {
                    return commit.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }));
            assertTrue(done.await(10, TimeUnit.SECONDS));
            Future<T> waiting = threads.submit(second);
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !waiting.isDone());
            commit.countDown();
            open.get(10, TimeUnit.SECONDS);
            return waiting.get(10, TimeUnit.SECONDS);
        } finally {
            commit.countDown();
            threads.shutdownNow();
        }
    }

    /**
     * A lane's batch of confirmations is recorded with JDBC batches; a delivery of the batch that another lane took
     * over mid-batch (its claim ran out and was claimed again) is not recorded, and the others are, each with its
     * attempt and what the system now holds.
     */
    @Test
    void aBatchOfReceiptsSkipsTheDeliveryAnotherLaneTookOverMidBatch() throws SQLException {
        String system = newSystem();
        Instant now = Instant.now();
        List<String> customers = List.of(UUID.randomUUID().toString(), UUID.randomUUID().toString(),
                UUID.randomUUID().toString());
        for (String customer : customers) {
            insert(system, customer, "unsubscribed", "pending", now.minusSeconds(3), null);
        }
        Deliveries.Claim mine = deliveries.claim(system, 10, Duration.ofMillis(1));
        assertEquals(3, mine.deliveries().size());
        // The second delivery's claim ran out during the calls and another lane took it over.
        await().atMost(Duration.ofSeconds(5)).until(() -> deliveries.claim(system, 10, TTL).deliveries().size() == 3);
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(
                "UPDATE delivery SET claimed_by = ? WHERE id IN (?, ?)")) {
            s.setString(1, mine.token());
            s.setLong(2, mine.deliveries().get(0).id());
            s.setLong(3, mine.deliveries().get(2).id());
            s.executeUpdate();
        }
        Deliveries.Evidence ok = new Deliveries.Evidence("POST", "http://esp/x", "{}", 200, "{}", null);
        boolean[] recorded = deliveries.delivered(mine.deliveries().stream().map(d -> new Deliveries.Receipt(d, ok, 3))
                .toList(), mine.token());

        assertEquals("[true, false, true]", java.util.Arrays.toString(recorded));
        for (int i = 0; i < 3; i++) {
            long id = mine.deliveries().get(i).id();
            assertEquals(Optional.of(i == 1 ? Deliveries.SENDING : Deliveries.DELIVERED), deliveries.status(id));
            assertEquals(i == 1 ? 0 : 1, count("SELECT COUNT(*) FROM delivery_attempt WHERE delivery_id = ?", id),
                    "one attempt recorded for a confirmed delivery, none for the one taken over");
        }
        Map<ConsentLedger.Key, Map<String, ConsentState>> held = deliveries.heldBySystem(customers);
        assertEquals(Map.of(system, ConsentState.UNSUBSCRIBED), held.get(key(customers.get(0))));
        assertNull(held.get(key(customers.get(1))),
                "the taken-over delivery's confirmation is the other lane's to record");
        assertEquals(Map.of(system, ConsentState.UNSUBSCRIBED), held.get(key(customers.get(2))));
    }

    private long count(String sql, Object value) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
            s.setObject(1, value);
            try (var rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static ConsentLedger.Key key(String customer) {
        return new ConsentLedger.Key(customer, "email", "marketing");
    }

    private static List<Long> ids(Deliveries.Claim claim) {
        return claim.deliveries().stream().map(Delivery::id).toList();
    }

    private long insert(String system, String hubId, String state, String status, Instant planned, Instant claimUntil)
            throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement("INSERT INTO delivery"
                + " (change_id, system, kind, hub_id, channel, purpose, state, origin_system, origin_event, event_time,"
                + " received_at, planned_at, status, attempts, next_attempt_at, claimed_by, claim_until, replays)"
                + " VALUES (?, ?, 'consent', ?, 'email', 'marketing', ?, 'shopify', ?, ?, ?, ?, ?, 0, ?, ?, ?, 0)",
                new String[] { "id" })) {
            Timestamp at = Timestamp.from(planned);
            s.setString(1, UUID.randomUUID().toString());
            s.setString(2, system);
            s.setString(3, hubId);
            s.setString(4, state);
            s.setString(5, "/systems/shopify#" + UUID.randomUUID());
            s.setTimestamp(6, at);
            s.setTimestamp(7, at);
            s.setTimestamp(8, at);
            s.setString(9, status);
            s.setTimestamp(10, at);
            s.setString(11, claimUntil == null ? null : "dead-replica-claim");
            s.setTimestamp(12, claimUntil == null ? null : Timestamp.from(claimUntil));
            s.executeUpdate();
            long id;
            try (var keys = s.getGeneratedKeys()) {
                keys.next();
                id = keys.getLong(1);
            }
            // Every delivery has its lookup row (Deliveries plans both in one transaction).
            try (PreparedStatement k = c.prepareStatement("INSERT INTO delivery_key (id, change_id, system, kind,"
                    + " hub_id, channel, purpose) SELECT id, change_id, system, kind, hub_id, channel, purpose"
                    + " FROM delivery WHERE id = ?")) {
                k.setLong(1, id);
                k.executeUpdate();
            }
            return id;
        }
    }

    private void finish(long id) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(
                "UPDATE delivery SET status = 'delivered', claimed_by = NULL, claim_until = NULL WHERE id = ?")) {
            s.setLong(1, id);
            s.executeUpdate();
        }
    }
}
