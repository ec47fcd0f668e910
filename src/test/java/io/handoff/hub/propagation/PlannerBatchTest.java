package io.handoff.hub.propagation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

import javax.sql.DataSource;

import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.consent.ConsentLedger;
import io.handoff.hub.consent.ConsentLedger.Outcome;
import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEvent.TimeSource;
import io.handoff.hub.event.CustomerRefs;
import io.handoff.hub.event.EventType;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.VendorStubs;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The planner plans a poll's ledger changes together, with set-based reads and JDBC batches (issue 17). This test
 * holds it to planning the same changes one at a time: every delivery row (status and reason) and every system's
 * confirmed state must come out the same. The lanes are idle here (they look for work once an hour and nothing wakes
 * them), and the test plays their part itself between polls: it claims deliveries and confirms them, so that the
 * planner meets work in flight and systems already in the new state.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
@QuarkusTestResource(value = VendorStubs.class, restrictToAnnotatedClass = true)
@TestProfile(PlannerBatchTest.IdleLanes.class)
class PlannerBatchTest {

    public static class IdleLanes implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("hub.propagation.poll-interval-ms", "3600000");
        }
    }

    private static final String[] ORIGINS = { "checkout", "klaviyo", "salesforce", "hubspot", "loyalty" };
    private static final String[] STATES = { "subscribed", "unsubscribed", "suppressed" };
    private static final int CUSTOMERS = 8;
    private static final String CLAIM = "planner-batch-test";

    @Inject
    ConsentLedger ledger;

    @Inject
    PropagationPlanner planner;

    @Inject
    PropagationLanes lanes;

    @Inject
    Deliveries deliveries;

    @Inject
    @Named("hubDataSource")
    DataSource dataSource;

    /** A consent event of the script (by customer), or a redelivery of an earlier one. */
    private record Step(int customer, String origin, String state, long second, int duplicateOf) {
    }

    /** What a lane does between two polls: claims the oldest waiting delivery of a customer, or confirms its call. */
    private record LaneTurn(int customer, String system, boolean confirm) {
    }

    /**
     * A random history of 300 consent events over 8 customers from 5 origins (four of them subscriber systems, so
     * origins skip and re-assert), mostly newer than the last but some older, with redeliveries. It is decided by the ledger poll by poll
     * (random sizes, the same in both worlds); after each poll the changes are planned once one at a time and once in
     * random batches (each world on its own customers), and the same lane turns are taken in both worlds. Every
     * change's rows, what each poll found due, and each customer's confirmed states must be the same.
     */
    @Test
    void batchesPlanEveryChangeAsOneAtATimeDoes() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        List<Step> script = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            if (i > 10 && random.nextInt(100) < 8) {
                script.add(new Step(0, null, null, 0, random.nextInt(script.size())));
            } else {
                // Mostly newer than the customer's last change, some older (ignored), a few suppressions (sticky).
                int state = random.nextInt(100) < 5 ? 2 : random.nextInt(2);
                script.add(new Step(random.nextInt(CUSTOMERS), ORIGINS[random.nextInt(ORIGINS.length)], STATES[state],
                        i * 10L - random.nextInt(60), -1));
            }
        }
        List<Integer> polls = new ArrayList<>();
        for (int at = 0; at < script.size(); at += 1 + random.nextInt(40)) {
            polls.add(at);
        }
        polls.add(script.size());
        List<String> systems = List.copyOf(lanes.systems());
        List<List<LaneTurn>> turns = new ArrayList<>();
        for (int p = 0; p < polls.size(); p++) {
            List<LaneTurn> these = new ArrayList<>();
            for (int t = random.nextInt(6); t > 0; t--) {
                these.add(new LaneTurn(random.nextInt(CUSTOMERS), systems.get(random.nextInt(systems.size())),
                        random.nextBoolean()));
            }
            turns.add(these);
        }
        String run = UUID.randomUUID().toString().substring(0, 8);
        World one = play(script, polls, turns, "a" + run, new Random(seed), false);
        World batched = play(script, polls, turns, "b" + run, new Random(seed), true);

        String at = " (seed " + seed + ")";
        assertEquals(one.due, batched.due, "the systems each poll found due" + at);
        assertEquals(one.changes.size(), batched.changes.size(), "the same changes published" + at);
        assertTrue(one.changes.size() > 50, one.changes.size() + " changes: the script changes states often enough to"
                + " mean something" + at);
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        for (int i = 0; i < one.changes.size(); i++) {
            assertEquals(one.rows(jdbc, i), batched.rows(jdbc, i), "the rows of change " + i + at);
        }
        for (int c = 0; c < CUSTOMERS; c++) {
            assertEquals(one.held(jdbc, c), batched.held(jdbc, c), "what each system holds for customer " + c + at);
        }
    }

    /** One world's customers, its consent.applied events in order, and what each poll's planning found due. */
    private static final class World {
        final String name;
        final Map<Integer, String> hubIds = new HashMap<>();
        final List<String> changes = new ArrayList<>();
        final Map<String, Integer> changeIndex = new HashMap<>();
        final List<Set<String>> due = new ArrayList<>();

        World(String name) {
            this.name = name;
        }

        /** A change's rows, by system: status and reason, with change ids made comparable across the worlds. */
        Map<String, String> rows(JdbcTemplate jdbc, int change) {
            Map<String, String> rows = new TreeMap<>();
            jdbc.query("SELECT system, status, status_reason, next_attempt_at IS NULL FROM delivery WHERE change_id = ?",
                    rs -> {
                        rows.put(rs.getString(1), rs.getString(2) + "|" + comparable(rs.getString(3)) + "|"
                                + rs.getBoolean(4));
                    }, changes.get(change));
            return rows;
        }

        private String comparable(String reason) {
            if (reason == null) {
                return null;
            }
            for (Map.Entry<String, Integer> id : changeIndex.entrySet()) {
                reason = reason.replace(id.getKey(), "change#" + id.getValue());
            }
            return reason;
        }

        /** What each system was confirmed to hold for a customer. */
        Map<String, String> held(JdbcTemplate jdbc, int customer) {
            Map<String, String> held = new TreeMap<>();
            jdbc.query("SELECT system, channel, purpose, state, evidence FROM system_consent WHERE hub_id = ?", rs -> {
                held.put(rs.getString(1) + "/" + rs.getString(2) + "/" + rs.getString(3), rs.getString(4) + "|"
                        + rs.getString(5));
            }, hubIds.get(customer));
            return held;
        }
    }

    private World play(List<Step> script, List<Integer> polls, List<List<LaneTurn>> turns, String name, Random random,
            boolean inBatches) {
        World world = new World(name);
        Instant base = Instant.parse("2026-11-20T10:00:00Z");
        List<CanonicalEvent> events = new ArrayList<>();
        for (int i = 0; i < script.size(); i++) {
            Step step = script.get(i);
            events.add(step.duplicateOf() >= 0 ? events.get(step.duplicateOf()) : consentEvent(name, i, step, base));
        }
        for (int p = 0; p + 1 < polls.size(); p++) {
            List<CanonicalEvent> poll = events.subList(polls.get(p), polls.get(p + 1));
            List<CanonicalEvent> applied = new ArrayList<>();
            List<Outcome> outcomes = ledger.applyAll(poll);
            for (int k = 0; k < outcomes.size(); k++) {
                Step step = script.get(polls.get(p) + k);
                int customer = step.duplicateOf() >= 0 ? script.get(step.duplicateOf()).customer() : step.customer();
                world.hubIds.putIfAbsent(customer, outcomes.get(k).hubId());
                if (outcomes.get(k).applied() != null) {
                    applied.add(outcomes.get(k).applied());
                    world.changeIndex.putIfAbsent(outcomes.get(k).applied().id(), world.changes.size());
                    world.changes.add(outcomes.get(k).applied().id());
                }
            }
            Set<String> due = new LinkedHashSet<>();
            if (inBatches) {
                for (int from = 0; from < applied.size();) {
                    int to = Math.min(applied.size(), from + 1 + random.nextInt(applied.size()));
                    due.addAll(planner.planAll(applied.subList(from, to)));
                    from = to;
                }
            } else {
                applied.forEach(event -> due.addAll(planner.planAll(List.of(event))));
            }
            world.due.add(new java.util.TreeSet<>(due));
            turns.get(p).forEach(turn -> laneTurn(world, turn));
        }
        return world;
    }

    /** Plays a lane: claims a customer's oldest waiting delivery to a system, or confirms the one it claimed. */
    private void laneTurn(World world, LaneTurn turn) {
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        String hubId = world.hubIds.get(turn.customer());
        if (hubId == null) {
            return;
        }
        if (!turn.confirm()) {
            jdbc.update("UPDATE delivery SET status = 'sending', claimed_by = ?, claim_until = ? WHERE id = (SELECT"
                    + " MIN(id) FROM delivery WHERE hub_id = ? AND system = ? AND status = 'pending')", CLAIM,
                    java.time.OffsetDateTime.now().plusHours(1), hubId, turn.system());
            return;
        }
        List<Long> sending = jdbc.query("SELECT id FROM delivery WHERE hub_id = ? AND system = ? AND status = 'sending'"
                + " AND claimed_by = ? ORDER BY id", (rs, i) -> rs.getLong(1), hubId, turn.system(), CLAIM);
        for (long id : sending) {
            Delivery d = deliveries.find(id).orElseThrow();
            assertTrue(deliveries.delivered(d, CLAIM, new Deliveries.Evidence("POST", "http://vendor/test", "{}", 200,
                    "{}", null), 1), "the claim is the test's own");
        }
    }

    private static CanonicalEvent consentEvent(String world, int index, Step step, Instant base) {
        ObjectNode customer = CustomerRefs.of(world + "-" + step.customer() + "@example.com", null, null, null);
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.set("customer", customer);
        data.put("channel", "email").put("purpose", "marketing").put("state", step.state());
        if (step.state().equals("suppressed")) {
            data.put("reason", "hard_bounce");
        }
        String key = CustomerRefs.key(customer);
        return new CanonicalEvent(world + "-evt-" + index, "/systems/" + step.origin(), EventType.CONSENT_CHANGED, key,
                base.plusSeconds(step.second()), Instant.now(), TimeSource.PAYLOAD, Map.of(), data, key);
    }
}
