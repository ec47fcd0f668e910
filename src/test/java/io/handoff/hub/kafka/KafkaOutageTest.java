package io.handoff.hub.kafka;

import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.handoff.hub.support.DeliveryKeys;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.KafkaProbe;
import io.handoff.hub.support.Management;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class KafkaOutageTest {

    @Inject
    KafkaBootstrap kafka;

    @Inject
    HubTopics topics;

    @Inject
    @Named("hubDataSource")
    DataSource dataSource;

    @Test
    void kafkaDownIs503AndTheRetriedDeliveryLandsOnceAfterRestart() {
        EmbeddedKafkaBroker broker = kafka.embeddedBroker().orElseThrow();
        Webhooks.ShopifyDelivery delivery = Webhooks.ShopifyDelivery.consentSample();
        String webhookId = delivery.webhookId();
        Map<TopicPartition, Long> mark;
        try (KafkaProbe probe = new KafkaProbe(List.of(topics.forDomain(io.handoff.hub.event.EventType.Domain.CONSENT)))) {
            mark = probe.mark();
        }

        broker.stop();
        try {
            delivery.post().then()
                    .statusCode(503)
                    .header("Retry-After", "5")
                    .body("error.code", equalTo("unavailable"));
            assertFalse(DeliveryKeys.held("shopify:" + webhookId),
                    "the delivery key is released so the platform's retry is processed");
            RestAssured.given().port(Management.port()).get("/q/health/ready").then().statusCode(503);
        } finally {
            broker.start();
        }

        // Shopify retries the same delivery (same X-Shopify-Webhook-Id) until it gets a 2xx.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                delivery.post().then().statusCode(200));
        delivery.post().then().statusCode(200).body("status", equalTo("duplicate"));

        try (KafkaProbe probe = new KafkaProbe(List.of(topics.forDomain(io.handoff.hub.event.EventType.Domain.CONSENT)))) {
            List<ConsumerRecord<String, byte[]>> records = probe.since(mark);
            assertEquals(1, records.stream().filter(r -> webhookId.equals(KafkaProbe.header(r, "ce_id")))
                    .count(), "the delivery landed exactly once");
        }
        assertEquals(1, DeliveryKeys.stored(dataSource, "shopify:" + webhookId));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                RestAssured.given().port(Management.port()).get("/q/health/ready").then().statusCode(200));
    }
}
