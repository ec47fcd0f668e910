package io.handoff.hub.consent;

import static io.handoff.hub.consent.ConsentLedgerTest.awaitDecision;
import static io.handoff.hub.consent.ConsentLedgerTest.consent;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEvent.TimeSource;
import io.handoff.hub.event.EventType;
import io.handoff.hub.support.Json;

import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.KafkaMarkedTest;
import io.handoff.hub.support.KafkaProbe;
import io.handoff.hub.support.VendorStubs;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * A record the ledger or the planner cannot process is parked on the dead-letter topic, and the records around it
 * (in the same batch or after it) still flow.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
// Subscriber systems, so that the planner has deliveries to plan.
@QuarkusTestResource(value = VendorStubs.class, restrictToAnnotatedClass = true)
class LedgerDeadLetterTest extends KafkaMarkedTest {

    @Override
    protected List<String> probedTopics() {
        return List.of(topics.deadLetter());
    }

    @Test
    void poisonRecordGoesToTheDeadLetterTopicAndTheLedgerGoesOn() throws Exception {
        String key = "poison-" + UUID.randomUUID();
        byte[] poison = "{\"specversion\": \"1.0\", \"type\": \"consent.changed\", \"data\": 42".getBytes(UTF_8);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                ConfigProvider.getConfig().getValue("camel.component.kafka.brokers", String.class)),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topics.forDomain(io.handoff.hub.event.EventType.Domain.CONSENT), key,
                    poison)).get();
        }

        await().atMost(Duration.ofSeconds(30)).until(() -> written().stream().anyMatch(r -> key.equals(r.key())));
        var parked = written().stream().filter(r -> key.equals(r.key())).toList();
        assertEquals(1, parked.size(), "parked once");
        assertEquals(new String(poison, UTF_8), new String(parked.get(0).value(), UTF_8), "the original record, for replay");
        assertEquals("handoff.consent", KafkaProbe.header(parked.get(0), "handoff_original_topic"));
        assertEquals("consent-ledger", KafkaProbe.header(parked.get(0), "handoff_failed_route"));
        org.junit.jupiter.api.Assertions.assertTrue(KafkaProbe.header(parked.get(0), "handoff_error").startsWith("java.lang.IllegalArgumentException"),
                KafkaProbe.header(parked.get(0), "handoff_error"));

        String email = "after-poison-" + UUID.randomUUID() + "@example.com";
        awaitDecision(email, consent(email, "subscribed", "2026-11-20T10:00:00Z"));
    }


    /**
     * The planner consumes the ledger topic in batches. A consent.applied it can read but not plan (no state) makes
     * it plan that batch one event at a time: the bad event is parked with its original bytes, the good one sent with
     * it in the same poll is planned.
     */
    @Test
    void aLedgerEventThePlannerCannotPlanIsParkedAndTheRestOfItsBatchIsPlanned() throws Exception {
        String email = "planner-poison-" + UUID.randomUUID() + "@example.com";
        awaitDecision(email, consent(email, "subscribed", "2026-11-20T10:00:00Z"));
        String hubId = ConsentLedgerTest.consentOf(email).getString("hubId");

        ObjectNode bad = Json.MAPPER.createObjectNode().put("hubId", hubId).put("channel", "email")
                .put("purpose", "marketing");
        ObjectNode good = bad.deepCopy().put("state", "unsubscribed").put("originSystem", "checkout");
        good.putObject("originEvent").put("source", "/systems/checkout").put("id", "replayed-" + UUID.randomUUID());
        Instant now = Instant.now();
        CanonicalEvent badEvent = new CanonicalEvent("bad-" + UUID.randomUUID(), ConsentLedger.LEDGER_SOURCE,
                EventType.CONSENT_APPLIED, "hub:" + hubId, now, now, TimeSource.RECEIVED, Map.of(), bad, hubId);
        CanonicalEvent goodEvent = new CanonicalEvent("good-" + UUID.randomUUID(), ConsentLedger.LEDGER_SOURCE,
                EventType.CONSENT_APPLIED, "hub:" + hubId, now, now, TimeSource.RECEIVED, Map.of(), good, hubId);
        byte[] badBytes = codec.write(badEvent);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                ConfigProvider.getConfig().getValue("camel.component.kafka.brokers", String.class)),
                new StringSerializer(), new ByteArraySerializer())) {
            String ledger = topics.forDomain(EventType.Domain.LEDGER);
            producer.send(new ProducerRecord<>(ledger, hubId, badBytes));
            producer.send(new ProducerRecord<>(ledger, hubId, codec.write(goodEvent)));
            producer.flush();
        }

        await().atMost(Duration.ofSeconds(30)).until(() -> written().stream()
                .anyMatch(r -> hubId.equals(r.key())));
        var parked = written().stream().filter(r -> hubId.equals(r.key())).toList();
        assertEquals(1, parked.size(), "parked once");
        assertEquals(new String(badBytes, UTF_8), new String(parked.get(0).value(), UTF_8), "the original record");
        assertEquals("handoff.ledger", KafkaProbe.header(parked.get(0), "handoff_original_topic"));
        assertEquals("consent-propagation", KafkaProbe.header(parked.get(0), "handoff_failed_route"));
        org.junit.jupiter.api.Assertions.assertTrue(KafkaProbe.header(parked.get(0), "handoff_error")
                .startsWith("java.lang.IllegalArgumentException"), KafkaProbe.header(parked.get(0), "handoff_error"));
        // The good change was planned; the ledger holds another (newer) decision, so every receipt says stale.
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT COUNT(*) FROM delivery WHERE change_id = ?", Integer.class, goodEvent.id()) > 0);
        assertEquals(List.of("superseded"), jdbc.queryForList("SELECT DISTINCT status FROM delivery WHERE change_id = ?",
                String.class, goodEvent.id()));
        assertEquals(0, jdbc.queryForObject("SELECT COUNT(*) FROM delivery WHERE change_id = ?", Integer.class,
                badEvent.id()), "nothing planned for the parked event");
    }
}
