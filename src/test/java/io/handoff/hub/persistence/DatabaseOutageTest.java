package io.handoff.hub.persistence;

import static io.handoff.hub.support.HubTestResource.ADMIN_TOKEN;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.sql.DataSource;

import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEvent.TimeSource;
import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.event.CustomerRefs;
import io.handoff.hub.event.EventType;
import io.handoff.hub.kafka.HubTopics;
import io.handoff.hub.support.DeliveryKeys;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.KafkaProbe;
import io.handoff.hub.support.SwitchableDatabase;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;

/**
 * The database unreachable (every new connection refused, {@link SwitchableDatabase}): intake answers 503 and keeps
 * nothing, so the platform's retry is processed once the database is back; the admin API answers 503 (JSON, with
 * Retry-After) rather than 500; the ledger's consumer retries the record
 * it holds for as long as the outage lasts and then decides it, once, parking nothing.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
@TestProfile(SwitchableDatabase.Profile.class)
class DatabaseOutageTest {

    @Inject
    HubTopics topics;

    @Inject
    CanonicalEventCodec codec;

    @Inject
    @Named("hubDataSource")
    DataSource dataSource;

    @AfterEach
    void databaseBack() {
        SwitchableDatabase.up();
    }

    @Test
    void databaseDownIs503AndNoKeyIsKept() {
        Webhooks.ShopifyDelivery delivery = Webhooks.ShopifyDelivery.consentSample();
        String webhookId = delivery.webhookId();
        String consent = topics.forDomain(EventType.Domain.CONSENT);
        Map<TopicPartition, Long> mark = mark(consent);

        SwitchableDatabase.down();
        delivery.post().then()
                .statusCode(503)
                .header("Retry-After", "5")
                .body("error.code", equalTo("unavailable"));
        assertEquals(List.of(), withId(since(consent, mark), webhookId), "nothing published while the database is down");
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/customers/someone@example.com/consent").then()
                .statusCode(503)
                .body("error.code", equalTo("unavailable"));
        SwitchableDatabase.up();

        assertFalse(DeliveryKeys.held("shopify:" + webhookId), "no key kept: the platform's retry will be processed");
        assertEquals(0, DeliveryKeys.count(dataSource, "shopify:" + webhookId));
        delivery.post().then().statusCode(200).body("status", equalTo("accepted"));
        delivery.post().then().statusCode(200).body("status", equalTo("duplicate"));
        assertEquals(1, withId(since(consent, mark), webhookId).size(), "the retried delivery landed exactly once");
        assertEquals(1, DeliveryKeys.stored(dataSource, "shopify:" + webhookId));
    }

    @Test
    void theLedgerRetriesThroughADatabaseOutageAndLosesNothing() throws Exception {
        String email = "outage-" + UUID.randomUUID() + "@example.com";
        ObjectNode customer = CustomerRefs.of(email, null, null, null);
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.set("customer", customer);
        data.put("channel", "email").put("purpose", "marketing").put("state", "unsubscribed");
        String key = CustomerRefs.key(customer);
        CanonicalEvent optOut = new CanonicalEvent("outage-" + UUID.randomUUID(), "/systems/checkout",
                EventType.CONSENT_CHANGED, key, Instant.now(), Instant.now(), TimeSource.PAYLOAD, Map.of(), data, key);
        String ledger = topics.forDomain(EventType.Domain.LEDGER);
        Map<TopicPartition, Long> ledgerMark = mark(ledger);
        Map<TopicPartition, Long> deadMark = mark(topics.deadLetter());

        SwitchableDatabase.down();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                ConfigProvider.getConfig().getValue("camel.component.kafka.brokers", String.class)),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topics.forDomain(EventType.Domain.CONSENT), key, codec.write(optOut)))
                    .get();
        }
        // The ledger's consumer takes the record and is refused by the database, again and again.
        await().atMost(Duration.ofSeconds(30)).until(() -> SwitchableDatabase.refusedOn("handoff.consent") >= 3);
        SwitchableDatabase.up();

        JsonPath view = await().atMost(Duration.ofSeconds(30)).until(() -> consentOf(email),
                v -> v != null && v.getList("history.event.id").contains(optOut.id()));
        assertEquals("unsubscribed", view.getString("consent[0].state"));
        List<ConsumerRecord<String, byte[]>> applied = await().atMost(Duration.ofSeconds(10)).until(
                () -> since(ledger, ledgerMark).stream().filter(r -> optOut.id().equals(
                        codec.read(r.value(), r.key()).data().path("originEvent").path("id").asText())).toList(),
                records -> !records.isEmpty());
        assertEquals(1, applied.size(), "decided once, published once");
        assertTrue(since(topics.deadLetter(), deadMark).stream().noneMatch(r -> key.equals(r.key())),
                "an outage parks nothing");
    }

    private static JsonPath consentOf(String email) {
        var response = RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/customers/" + email + "/consent");
        return response.statusCode() == 200 ? response.jsonPath() : null;
    }

    private static Map<TopicPartition, Long> mark(String topic) {
        try (KafkaProbe probe = new KafkaProbe(List.of(topic))) {
            return probe.mark();
        }
    }

    private static List<ConsumerRecord<String, byte[]>> since(String topic, Map<TopicPartition, Long> mark) {
        try (KafkaProbe probe = new KafkaProbe(List.of(topic))) {
            return probe.since(mark);
        }
    }

    private static List<ConsumerRecord<String, byte[]>> withId(List<ConsumerRecord<String, byte[]>> records,
            String id) {
        return records.stream().filter(r -> id.equals(KafkaProbe.header(r, "ce_id"))).toList();
    }
}
