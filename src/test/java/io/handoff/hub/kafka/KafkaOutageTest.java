package io.handoff.hub.kafka;

import static io.handoff.hub.support.HubTestResource.SHOPIFY_SECRET;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.sql.DataSource;

import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.handoff.hub.support.DeliveryKeys;
import io.handoff.hub.support.Fixtures;
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
        byte[] body = Fixtures.shopifyPayload("customers_email_marketing_consent-update.json");
        String webhookId = UUID.randomUUID().toString();
        Map<String, String> headers = Webhooks.shopifyHeaders("customers_email_marketing_consent/update", webhookId,
                body, SHOPIFY_SECRET);
        Map<TopicPartition, Long> mark;
        try (KafkaProbe probe = new KafkaProbe(List.of(topics.forDomain(io.handoff.hub.event.EventType.Domain.CONSENT)))) {
            mark = probe.mark();
        }

        broker.stop();
        try {
            Webhooks.postShopify(headers, body).then()
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
                Webhooks.postShopify(headers, body).then().statusCode(200));
        Webhooks.postShopify(headers, body).then().statusCode(200).body("status", equalTo("duplicate"));

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
