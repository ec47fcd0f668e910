package io.handoff.hub;

import static io.handoff.hub.support.HubTestResource.CHECKOUT_SECRET;
import static io.handoff.hub.support.HubTestResource.SHOPIFY_SECRET;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.support.Fixtures;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.KafkaProbe;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The packaged application ({@code java -jar target/quarkus-app/quarkus-run.jar}, prod profile, routes loaded from
 * the top-level routes/ folder) on its embedded default: it starts its own Kafka broker and H2 database and turns
 * signed webhooks into canonical events.
 */
@QuarkusIntegrationTest
@QuarkusTestResource(HubTestResource.class)
class PackagedHubIT {

    private final CanonicalEventCodec codec = new CanonicalEventCodec();

    private KafkaProbe probe(String topic) {
        return new KafkaProbe(System.getProperty(HubTestResource.KAFKA_BOOTSTRAP_PROPERTY), List.of(topic));
    }

    @Test
    void signedShopifyConsentWebhookLandsOnKafkaOnce() {
        byte[] body = Fixtures.shopifyPayload("customers_email_marketing_consent-update.json");
        String webhookId = UUID.randomUUID().toString();
        Map<String, String> headers = Webhooks.shopifyHeaders("customers_email_marketing_consent/update", webhookId,
                body, SHOPIFY_SECRET);
        try (KafkaProbe probe = probe("handoff.consent")) {
            Map<TopicPartition, Long> mark = probe.mark();
            Webhooks.postShopify(headers, body).then().statusCode(200).body("status", equalTo("accepted"));
            Webhooks.postShopify(headers, body).then().statusCode(200).body("status", equalTo("duplicate"));
            Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update", webhookId, body,
                    "wrong-secret"), body).then().statusCode(401);

            List<ConsumerRecord<String, byte[]>> records = probe.since(mark);
            assertEquals(1, records.size());
            CanonicalEvent event = codec.read(records.get(0).value(), records.get(0).key());
            assertEquals(webhookId, event.id());
            assertEquals("consent.changed", event.type().wireName());
            assertEquals("706405506930370084", event.data().at("/customer/ids/shopify").asText());
        }
    }

    @Test
    void standardWebhooksDeliveryLandsOnItsDomainTopic() {
        byte[] body = ("{\"type\": \"waitlist.joined\", \"timestamp\": \"2026-11-20T08:00:00Z\", "
                + "\"data\": {\"customer\": {\"email\": \"w@example.com\"}, \"sku\": \"SKU-9\"}}").getBytes(UTF_8);
        try (KafkaProbe probe = probe("handoff.waitlist")) {
            Map<TopicPartition, Long> mark = probe.mark();
            Webhooks.postSigned("checkout", CHECKOUT_SECRET, Webhooks.newId(), body).then().statusCode(200);
            assertEquals(1, probe.since(mark).size());
        }
    }
}
