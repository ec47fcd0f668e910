package io.handoff.hub.consent;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.consent.ConsentLedger.Outcome;
import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEvent.TimeSource;
import io.handoff.hub.event.CustomerRefs;
import io.handoff.hub.event.EventType;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.KafkaMarkedTest;
import io.handoff.hub.support.KafkaProbe;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The ledger decides a batch of events in one transaction (issue 17). These tests hold it to the one-at-a-time
 * decisions, to crash safety between the database commit and the Kafka offset commit, and to per-customer order.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class ConsentLedgerBatchTest extends KafkaMarkedTest {

    private static final String[] SOURCES = { "/systems/shopify", "/systems/checkout" };
    private static final String[] STATES = { "subscribed", "unsubscribed", "suppressed", "not_subscribed" };

    @Inject
    ConsentLedger ledger;

    @Inject
    CustomerMerges merges;

    @Override
    protected List<String> probedTopics() {
        return List.of(topics.forDomain(EventType.Domain.LEDGER));
    }

    /** One step of a scripted history: a consent event (by customer index) or a merge of one customer into another. */
    private record Step(int customer, boolean email, boolean id, String source, String state, String purpose,
            long second, int duplicateOf, int mergeInto) {
        boolean merge() {
            return mergeInto >= 0;
        }
    }

    /**
     * A random history over 15 customers: shuffled event times (many within the 5 s skew window), every state
     * including non-decisions, an unconfigured purpose, events naming the customer by email, by id or both (so ids
     * are linked on the way), exact redeliveries of earlier events, and merges. Played once one event at a time and
     * once in random batches of 1 to 60 (a merge ends a batch, as the identity route runs between ledger polls), each
     * on its own customers; every event's decision and published change must be the same, and so must the end state.
     */
    @Test
    void batchesDecideEveryEventAsOneAtATimeDoes() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        List<Step> script = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            if (i > 50 && random.nextInt(100) < 2) {
                int from = random.nextInt(15);
                int into = (from + 1 + random.nextInt(14)) % 15;
                script.add(new Step(from, true, true, null, null, null, 0, -1, into));
            } else if (i > 10 && random.nextInt(100) < 10) {
                int earlier;
                do {
                    earlier = random.nextInt(script.size());
                } while (script.get(earlier).merge());
                script.add(new Step(0, false, false, null, null, null, 0, earlier, -1));
            } else {
                int how = random.nextInt(3);
                script.add(new Step(random.nextInt(15), how != 1, how != 0, SOURCES[random.nextInt(2)],
                        STATES[random.nextInt(STATES.length)], random.nextInt(100) < 5 ? "transactional" : "marketing",
                        random.nextInt(600) / (random.nextBoolean() ? 1 : 60), -1, -1));
            }
        }
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<List<Outcome>> single = play(script, "a" + run, random, false);
        List<List<Outcome>> batched = play(script, "b" + run, random, true);

        Map<String, String> hubIds = new HashMap<>();
        for (int i = 0; i < script.size(); i++) {
            if (script.get(i).merge()) {
                continue;
            }
            String at = "step " + i + " " + script.get(i) + " (seed " + seed + ")";
            assertEquals(single.get(i).size(), batched.get(i).size(), at);
            for (int o = 0; o < single.get(i).size(); o++) {
                Outcome a = single.get(i).get(o);
                Outcome b = batched.get(i).get(o);
                assertEquals(a.decision(), b.decision(), at);
                assertEquals(hubIds.computeIfAbsent(a.hubId(), x -> b.hubId()), b.hubId(), "same customer, " + at);
                assertEquals(a.channel() + "/" + a.purpose(), b.channel() + "/" + b.purpose(), at);
                assertEquals(a.applied() == null, b.applied() == null, "published, " + at);
                if (a.applied() != null) {
                    for (String field : new String[] { "state", "reason", "previousState", "rule", "originSystem" }) {
                        assertEquals(a.applied().data().path(field), b.applied().data().path(field), field + ", " + at);
                    }
                }
            }
        }
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        for (Map.Entry<String, String> customer : hubIds.entrySet()) {
            assertEquals(stateRows(jdbc, customer.getKey(), "a" + run), stateRows(jdbc, customer.getValue(), "b" + run),
                    "end state (seed " + seed + ")");
        }
    }

    /** Plays the script on fresh customers of {@code world}; answers each step's outcomes. */
    private List<List<Outcome>> play(List<Step> script, String world, Random random, boolean inBatches) {
        Instant base = Instant.parse("2026-11-20T10:00:00Z");
        List<List<Outcome>> outcomes = new ArrayList<>();
        List<CanonicalEvent> events = new ArrayList<>();
        List<Integer> pending = new ArrayList<>();
        int batchSize = 1 + random.nextInt(60);
        for (int i = 0; i < script.size(); i++) {
            Step step = script.get(i);
            outcomes.add(List.of());
            if (step.merge()) {
                decide(pending, events, outcomes, inBatches);
                merges.merge(mergeEvent(world, i, step));
                events.add(null);
                continue;
            }
            events.add(step.duplicateOf() >= 0 ? events.get(step.duplicateOf()) : consentEvent(world, i, step, base));
            pending.add(i);
            if (!inBatches || pending.size() >= batchSize) {
                decide(pending, events, outcomes, inBatches);
                batchSize = 1 + random.nextInt(60);
            }
        }
        decide(pending, events, outcomes, inBatches);
        return outcomes;
    }

    /** Decides the pending steps' events: in one batch, or the one pending event on its own. */
    private void decide(List<Integer> pending, List<CanonicalEvent> events, List<List<Outcome>> outcomes,
            boolean inBatches) {
        if (pending.isEmpty()) {
            return;
        }
        List<CanonicalEvent> batch = pending.stream().map(events::get).toList();
        List<Outcome> decided = inBatches ? ledger.applyAll(batch) : ledger.apply(batch.get(0));
        assertEquals(batch.size(), decided.size(), "one outcome per event: every scripted event names a customer");
        for (int k = 0; k < pending.size(); k++) {
            outcomes.set(pending.get(k), List.of(decided.get(k)));
        }
        pending.clear();
    }

    private static CanonicalEvent consentEvent(String world, int index, Step step, Instant base) {
        ObjectNode customer = CustomerRefs.of(step.email() ? world + "-" + step.customer() + "@example.com" : null, null,
                "shopify", step.id() ? world + "-" + step.customer() : null);
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.set("customer", customer);
        data.put("channel", "email").put("purpose", step.purpose()).put("state", step.state());
        if (step.state().equals("suppressed")) {
            data.put("reason", "hard_bounce");
        }
        String key = CustomerRefs.key(customer);
        return new CanonicalEvent(world + "-evt-" + index, step.source(), EventType.CONSENT_CHANGED, key,
                base.plusSeconds(step.second()), Instant.now(), TimeSource.PAYLOAD, Map.of(), data, key);
    }

    private static CanonicalEvent mergeEvent(String world, int index, Step step) {
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.set("survivor", CustomerRefs.of(world + "-" + step.mergeInto() + "@example.com", null, "shopify",
                world + "-" + step.mergeInto()));
        data.putArray("merged").add(CustomerRefs.of(world + "-" + step.customer() + "@example.com", null, "shopify",
                world + "-" + step.customer()));
        String key = "merge:" + world + "-" + index;
        return new CanonicalEvent(world + "-merge-" + index, "/systems/shopify", EventType.CUSTOMER_MERGED, key,
                Instant.now(), Instant.now(), TimeSource.RECEIVED, Map.of(), data, key);
    }

    /** A customer's held states, with event ids made comparable across the two worlds. */
    private static List<String> stateRows(JdbcTemplate jdbc, String hubId, String world) {
        return jdbc.query("SELECT channel, purpose, state, reason, event_source, event_id, event_time, version"
                + " FROM consent_state WHERE hub_id = ? ORDER BY channel, purpose", (rs, i) -> String.join("|",
                        rs.getString(1), rs.getString(2), rs.getString(3), String.valueOf(rs.getString(4)),
                        rs.getString(5), rs.getString(6).replace(world, "w"), rs.getString(7), rs.getString(8)),
                hubId);
    }

    /**
     * A crash after the ledger committed a batch but before Kafka acknowledged its consent.applied events and the
     * consumer committed its offsets: the batch is decided (as the route's first step does) and never published, then
     * Kafka redelivers the same records to the running route. It republishes the same consent.applied ids and applies
     * nothing twice.
     */
    @Test
    void aCrashBetweenTheDatabaseCommitAndTheOffsetCommitRepublishesTheSameIds() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<CanonicalEvent> batch = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            batch.add(consentEvent("crash" + run, i, new Step(i, true, true, "/systems/checkout", "unsubscribed",
                    "marketing", 0, -1, -1), Instant.parse("2026-11-20T10:00:00Z")));
        }
        Map<String, String> firstIds = new LinkedHashMap<>();
        for (Outcome o : ledger.applyAll(batch)) {
            assertNotNull(o.applied(), "a first opt-out changes the state");
            firstIds.put(o.applied().data().path("originEvent").path("id").asText(), o.applied().id());
        }
        // The crash: nothing published, no offset committed. Kafka delivers the records again.
        produce(batch);

        await().atMost(Duration.ofSeconds(30)).until(() -> published(firstIds.values()).size() == firstIds.size());
        List<ConsumerRecord<String, byte[]>> republished = published(firstIds.values());
        for (ConsumerRecord<String, byte[]> record : republished) {
            assertEquals("republished", Json.MAPPER.readTree(record.value()).path("data").path("rule").asText());
        }
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        for (CanonicalEvent event : batch) {
            List<String> rules = jdbc.query("SELECT rule FROM consent_history WHERE event_id = ? ORDER BY id",
                    (rs, i) -> rs.getString(1), event.id());
            assertEquals(List.of("first-event", "duplicate"), rules, "decided once, then seen as a duplicate");
            assertEquals(1, jdbc.queryForObject("SELECT version FROM consent_state WHERE event_id = ?", Integer.class,
                    event.id()), "applied once");
        }
        assertEquals(firstIds.size(), republished.size(), "each consent.applied id once more, no new ids");
    }

    /**
     * One customer's changes keep their order inside a batch and across batches: 40 changes, each 10 s newer than the
     * one before and alternating the state, sent onto the consent topic in two bursts. Every one is applied as the
     * newer event, in the order sent, and the consent.applied events leave in that order too.
     */
    @Test
    void oneCustomersChangesKeepTheirOrderInsideAndAcrossBatches() throws Exception {
        String run = "order" + UUID.randomUUID().toString().substring(0, 8);
        List<CanonicalEvent> events = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            events.add(consentEvent(run, i, new Step(0, true, true, "/systems/checkout",
                    i % 2 == 0 ? "subscribed" : "unsubscribed", "marketing", i * 10L, -1, -1),
                    Instant.parse("2026-11-20T10:00:00Z")));
        }
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        produce(events.subList(0, 20));
        await().atMost(Duration.ofSeconds(30)).until(() -> history(jdbc, run).size() == 20);
        produce(events.subList(20, 40));
        await().atMost(Duration.ofSeconds(30)).until(() -> history(jdbc, run).size() == 40);

        List<String[]> history = history(jdbc, run);
        for (int i = 0; i < 40; i++) {
            assertEquals(events.get(i).id(), history.get(i)[0], "decided in the order sent");
            assertEquals(i == 0 ? "first-event" : "newer-event", history.get(i)[1], events.get(i).id());
        }
        assertEquals("unsubscribed", jdbc.queryForObject("SELECT state FROM consent_state WHERE event_id = ?",
                String.class, events.get(39).id()));
        await().atMost(Duration.ofSeconds(30)).until(() -> appliedOrigins(run).size() == 40);
        List<String> published = appliedOrigins(run);
        assertEquals(events.stream().map(CanonicalEvent::id).toList(), published, "published in the order sent");
    }

    private static List<String[]> history(JdbcTemplate jdbc, String run) {
        return jdbc.query("SELECT event_id, rule FROM consent_history WHERE event_id LIKE ? ORDER BY id",
                (rs, i) -> new String[] { rs.getString(1), rs.getString(2) }, run + "-evt-%");
    }

    private List<String> appliedOrigins(String run) throws Exception {
        List<String> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : written()) {
            String origin = Json.MAPPER.readTree(record.value()).path("data").path("originEvent").path("id").asText();
            if (origin.startsWith(run + "-evt-")) {
                out.add(origin);
            }
        }
        return out;
    }

    private List<ConsumerRecord<String, byte[]>> published(java.util.Collection<String> ids) {
        return written().stream().filter(r -> ids.contains(KafkaProbe.header(r, "ce_id"))).toList();
    }

    private void produce(List<CanonicalEvent> events) throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                ConfigProvider.getConfig().getValue("camel.component.kafka.brokers", String.class)),
                new StringSerializer(), new ByteArraySerializer())) {
            for (CanonicalEvent event : events) {
                producer.send(new ProducerRecord<>(topics.forDomain(EventType.Domain.CONSENT), event.key(),
                        codec.write(event)));
            }
            producer.flush();
        }
    }
}
