package io.handoff.hub.consent;

import static io.handoff.hub.consent.ConsentLedgerTest.awaitDecision;
import static io.handoff.hub.consent.ConsentLedgerTest.consent;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
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

import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.KafkaMarkedTest;
import io.handoff.hub.support.KafkaProbe;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** A record the ledger cannot process is retried, then parked on the dead-letter topic; the next one still flows. */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
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

}
