package io.handoff.hub.intake;

import static io.handoff.hub.support.HubTestResource.SHOPIFY_PREVIOUS_SECRET;
import static io.handoff.hub.support.HubTestResource.SHOPIFY_SECRET;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.support.DeliveryKeys;
import io.handoff.hub.support.Fixtures;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.KafkaMarkedTest;
import io.handoff.hub.support.KafkaProbe;
import io.handoff.hub.support.LogCapture;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class ShopifyWebhookTest extends KafkaMarkedTest {

    private void assertNothingWritten(String webhookId) {
        assertEquals(List.of(), written(), "no record on any hub topic");
        assertFalse(DeliveryKeys.held("shopify:" + webhookId), "no delivery key stored");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "customers_email_marketing_consent/update, customers_email_marketing_consent-update.json, consent.changed, handoff.consent",
            "customers_marketing_consent/update, customers_marketing_consent-update.json, consent.changed, handoff.consent",
            "customers/create, customers-create.json, customer.created, handoff.customer",
            "customers/update, customers-update.json, customer.updated, handoff.customer",
            "orders/create, orders-create.json, order.placed, handoff.order",
            "inventory_levels/update, inventory_levels-update.json, inventory.changed, handoff.inventory" })
    void everyPublishedSampleBecomesItsCanonicalEventOnKafka(String topic, String file, String type, String kafkaTopic) {
        byte[] body = Fixtures.shopifyPayload(file);
        String webhookId = UUID.randomUUID().toString();

        Webhooks.postShopify(Webhooks.shopifyHeaders(topic, webhookId, body, SHOPIFY_SECRET), body)
                .then().statusCode(200)
                .contentType("application/json")
                .body("status", equalTo("accepted"))
                .body("id", equalTo(webhookId))
                .body("type", equalTo(type))
                .body("topic", equalTo(kafkaTopic));

        List<ConsumerRecord<String, byte[]>> records = written();
        assertEquals(1, records.size(), "exactly one record");
        ConsumerRecord<String, byte[]> record = records.get(0);
        assertEquals(kafkaTopic, record.topic());
        assertEquals(CanonicalEventCodec.CONTENT_TYPE, KafkaProbe.header(record, "content-type"));
        assertEquals(webhookId, KafkaProbe.header(record, "ce_id"));
        assertEquals(type, KafkaProbe.header(record, "ce_type"));
        assertEquals(null, record.headers().lastHeader("X-Shopify-Hmac-Sha256"), "no request header reaches Kafka");

        CanonicalEvent event = codec.read(record.value(), record.key());
        assertEquals(webhookId, event.id());
        assertEquals("/systems/shopify", event.source());
        assertEquals(type, event.type().wireName());
        assertEquals(topic, event.extensions().get("hubsourcetopic"));
        assertEquals("handoff-test.myshopify.com", event.extensions().get("hubaccount"));
        assertEquals(event.key(), event.subject());
        assertTrue(!event.receivedAt().isAfter(Instant.now()));
        assertEquals(1, DeliveryKeys.stored(dataSource, "shopify:" + webhookId));
    }

    @Test
    void consentEventCarriesSourceTimeKeyAndExactIds() {
        byte[] body = Fixtures.shopifyPayload("customers_email_marketing_consent-update.json");
        String webhookId = UUID.randomUUID().toString();
        Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update", webhookId, body,
                SHOPIFY_SECRET), body).then().statusCode(200);

        ConsumerRecord<String, byte[]> record = written().get(0);
        CanonicalEvent event = codec.read(record.value(), record.key());
        // consent_updated_at is null in the published sample: the event time is X-Shopify-Triggered-At.
        assertEquals(Instant.parse("2025-07-10T16:15:47Z"), event.time());
        assertEquals("delivery", event.timeSource().wireName());
        assertEquals("emailsha256:" + io.handoff.hub.support.Pii.emailHash("bob@biller.com"), record.key());
        assertEquals("706405506930370084", event.data().at("/customer/ids/shopify").asText());
        assertEquals("not_subscribed", event.data().get("state").asText());
        String raw = new String(record.value(), UTF_8);
        assertTrue(raw.contains("\"shopify\":\"706405506930370084\""), "id serialised as an exact string: " + raw);
    }

    @Test
    void duplicateDeliveryIsAnswered200AndProducesOneEvent() {
        byte[] body = Fixtures.shopifyPayload("customers_email_marketing_consent-update.json");
        String webhookId = UUID.randomUUID().toString();
        Map<String, String> headers = Webhooks.shopifyHeaders("customers_email_marketing_consent/update", webhookId,
                body, SHOPIFY_SECRET);

        Webhooks.postShopify(headers, body).then().statusCode(200).body("status", equalTo("accepted"));
        Webhooks.postShopify(headers, body).then().statusCode(200).body("status", equalTo("duplicate"));
        Webhooks.postShopify(headers, body).then().statusCode(200).body("status", equalTo("duplicate"));

        assertEquals(1, written().size());
        assertEquals(1, DeliveryKeys.stored(dataSource, "shopify:" + webhookId));
    }

    @Test
    void headerNamesInAnyCaseWithoutPrefixAndTrailingNewlineAreAccepted() {
        byte[] body = Fixtures.shopifyPayload("customers-update.json");
        String webhookId = UUID.randomUUID().toString();
        Map<String, String> lowerCaseUnprefixed = new HashMap<>();
        Webhooks.shopifyHeaders("customers/update", webhookId, body, SHOPIFY_SECRET)
                .forEach((name, value) -> lowerCaseUnprefixed.put(name.toLowerCase().substring(2),
                        name.endsWith("Hmac-Sha256") ? value + "\n" : value));

        Webhooks.postShopify(lowerCaseUnprefixed, body).then().statusCode(200).body("status", equalTo("accepted"));
        assertEquals(1, written().size());
    }

    @Test
    void previousSecretIsAcceptedDuringRotation() {
        byte[] body = Fixtures.shopifyPayload("inventory_levels-update.json");
        String webhookId = UUID.randomUUID().toString();
        Webhooks.postShopify(Webhooks.shopifyHeaders("inventory_levels/update", webhookId, body,
                SHOPIFY_PREVIOUS_SECRET), body).then().statusCode(200);
        assertEquals(1, written().size());
    }

    @Test
    void badOrMissingSignatureIs401AndWritesNothing() {
        byte[] body = Fixtures.shopifyPayload("customers_email_marketing_consent-update.json");
        String webhookId = UUID.randomUUID().toString();
        Map<String, String> headers = Webhooks.shopifyHeaders("customers_email_marketing_consent/update", webhookId,
                body, "not-the-secret");
        Webhooks.postShopify(headers, body).then().statusCode(401)
                .contentType("application/json")
                .body("error.code", equalTo("invalid_signature"));

        headers.remove("X-Shopify-Hmac-Sha256");
        Webhooks.postShopify(headers, body).then().statusCode(401).body("error.code", equalTo("invalid_signature"));

        // Signed over the original bytes, but the body was re-serialised on the way.
        Map<String, String> signed = Webhooks.shopifyHeaders("customers_email_marketing_consent/update", webhookId,
                body, SHOPIFY_SECRET);
        byte[] reserialised = new String(body, UTF_8).replace("\n", "").replace("  ", "").getBytes(UTF_8);
        Webhooks.postShopify(signed, reserialised).then().statusCode(401);
        assertNothingWritten(webhookId);
    }

    @Test
    void missingRequiredShopifyHeadersAre400() {
        byte[] body = Fixtures.shopifyPayload("customers-create.json");
        String webhookId = UUID.randomUUID().toString();
        Map<String, String> headers = Webhooks.shopifyHeaders("customers/create", webhookId, body, SHOPIFY_SECRET);
        headers.remove("X-Shopify-API-Version");
        headers.put("X-Shopify-Shop-Domain", "");
        Webhooks.postShopify(headers, body).then().statusCode(400)
                .body("error.code", equalTo("missing_header"))
                .body("error.message", equalTo(
                        "required Shopify headers missing or empty: X-Shopify-Shop-Domain, X-Shopify-API-Version"));
        assertNothingWritten(webhookId);
    }

    @Test
    void malformedJsonAndMissingFieldsAre400WithJsonError() {
        String webhookId = UUID.randomUUID().toString();
        byte[] malformed = "{\"customer_id\": 706405506930370084, \"email_address\": ".getBytes(UTF_8);
        Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update", webhookId, malformed,
                SHOPIFY_SECRET), malformed).then().statusCode(400).body("error.code", equalTo("malformed_json"));

        byte[] missing = "{\"email_address\": \"bob@biller.com\", \"email_marketing_consent\": {}}".getBytes(UTF_8);
        Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update", webhookId, missing,
                SHOPIFY_SECRET), missing).then().statusCode(400)
                .body("error.code", equalTo("invalid_payload"))
                .body("error.message", equalTo("customer_id is missing"));
        assertNothingWritten(webhookId);
    }

    @Test
    void bodyAboveTheLimitIs413() {
        // The test profile sets hub.intake.max-body-bytes=65536.
        byte[] body = ("{\"pad\": \"" + "x".repeat(70_000) + "\"}").getBytes(UTF_8);
        String webhookId = UUID.randomUUID().toString();
        Webhooks.postShopify(Webhooks.shopifyHeaders("orders/create", webhookId, body, SHOPIFY_SECRET), body)
                .then().statusCode(413)
                .contentType("application/json")
                .body("error.code", equalTo("payload_too_large"));
        assertNothingWritten(webhookId);
    }

    @Test
    void nonJsonContentTypeIs415() {
        byte[] body = Fixtures.shopifyPayload("customers-create.json");
        String webhookId = UUID.randomUUID().toString();
        io.restassured.RestAssured.given().contentType("text/plain")
                .headers(Webhooks.shopifyHeaders("customers/create", webhookId, body, SHOPIFY_SECRET))
                .body(body).post("/webhooks/shopify")
                .then().statusCode(415).body("error.code", equalTo("unsupported_media_type"));
        assertNothingWritten(webhookId);
    }

    @Test
    void unmappedTopicIsAcknowledgedAndCountedButNotPublished() {
        byte[] body = "{\"id\": 788032119674292922, \"title\": \"Example T-Shirt\"}".getBytes(UTF_8);
        String webhookId = UUID.randomUUID().toString();
        Webhooks.postShopify(Webhooks.shopifyHeaders("products/update", webhookId, body, SHOPIFY_SECRET), body)
                .then().statusCode(200).body("status", equalTo("ignored"));
        assertNothingWritten(webhookId);
        io.restassured.RestAssured.given().port(io.handoff.hub.support.Management.port()).get("/q/metrics")
                .then().statusCode(200)
                .body(org.hamcrest.Matchers.containsString(
                        "handoff_webhooks_total{outcome=\"ignored\",system=\"shopify\",topic=\"other\"}"));
    }

    @Test
    void shopifyEndpointAcceptsOnlyPost() {
        io.restassured.RestAssured.given().get("/webhooks/shopify").then().statusCode(405);
    }


    static List<String> headerNames(ConsumerRecord<String, byte[]> record) {
        List<String> names = new java.util.ArrayList<>();
        record.headers().forEach(h -> names.add(h.key()));
        return names;
    }

    @Test
    void kafkaRecordCarriesOnlyTheHubsHeaders() {
        byte[] body = Fixtures.shopifyPayload("orders-create.json");
        Webhooks.postShopify(Webhooks.shopifyHeaders("orders/create", UUID.randomUUID().toString(), body,
                SHOPIFY_SECRET), body).then().statusCode(200);
        List<String> names = headerNames(written().get(0));
        assertEquals(List.of("content-type", "ce_id", "ce_type", "ce_source").stream().sorted().toList(),
                names.stream().sorted().toList());
        org.hamcrest.MatcherAssert.assertThat(names, hasItem("ce_id"));
    }

    @Inject
    WebhookIntake intake;

    /**
     * /webhooks/shopify also matches signed-webhook's /webhooks/{system}. Were that route registered first (the
     * HTTP router tries routes in registration order), its bean gets the delivery: it is verified and mapped as
     * Shopify's all the same, and a bad Shopify signature is still 401.
     */
    @Test
    void aShopifyDeliveryReachingTheGenericRouteIsShopifys() {
        byte[] body = Fixtures.shopifyPayload("customers_email_marketing_consent-update.json");
        String webhookId = UUID.randomUUID().toString();
        org.apache.camel.Exchange exchange = atGenericRoute(webhookId, body, SHOPIFY_SECRET);
        intake.signed(exchange);
        CanonicalEvent event = exchange.getMessage().getBody(CanonicalEvent.class);
        assertEquals(webhookId, event.id());
        assertEquals("/systems/shopify", event.source());
        assertEquals("shopify:" + webhookId, exchange.getProperty(IntakeExchange.DELIVERY_KEY));

        org.apache.camel.Exchange forged = atGenericRoute(webhookId, body, "wrong-secret");
        WebhookRejectedException refused = org.junit.jupiter.api.Assertions.assertThrows(
                WebhookRejectedException.class, () -> intake.signed(forged));
        assertEquals(401, refused.status());
    }

    /** A Shopify consent delivery signed with {@code secret}, as signed-webhook's route hands it to its bean. */
    private org.apache.camel.Exchange atGenericRoute(String webhookId, byte[] body, String secret) {
        org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(camel);
        exchange.getMessage().setHeaders(new HashMap<>(Webhooks.shopifyHeaders(
                "customers_email_marketing_consent/update", webhookId, body, secret)));
        exchange.getMessage().setHeader("system", "shopify");
        exchange.getMessage().setHeader("Content-Type", "application/json");
        exchange.getMessage().setBody(body);
        return exchange;
    }

    @Inject
    IntakeAdmission admission;

    @Inject
    org.apache.camel.CamelContext camel;

    /**
     * A replica already working on hub.intake.max-in-flight deliveries answers the next one 503 with Retry-After at
     * once and writes nothing; once a place is free, the platform's retry of the same delivery is accepted. Camel's
     * error handler writes no line of its own about the refusal, at any level: its per-attempt note is logged through a
     * logger whose level it switches unsafely, so under many refusals at once some came out at ERROR (webhook-errors).
     */
    @Test
    void aDeliveryBeyondTheInFlightBoundIsAnswered503AtOnceAndItsRetryIsAccepted() {
        List<org.apache.camel.Exchange> held = new java.util.ArrayList<>();
        try {
            while (true) {
                org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(camel);
                admission.admit(exchange);
                held.add(exchange);
            }
        } catch (IntakeAdmission.OverloadedException full) {
            // every place is taken
        }
        assertTrue(held.size() > 0);
        byte[] body = Webhooks.shopifyConsent(7_400_000_001L, "overload-" + UUID.randomUUID() + "@example.com",
                "unsubscribed", Instant.parse("2026-11-20T10:00:00Z"));
        String webhookId = UUID.randomUUID().toString();
        Map<String, String> headers = Webhooks.shopifyHeaders("customers_email_marketing_consent/update", webhookId,
                body, SHOPIFY_SECRET);
        // The category the error handler's CamelLogger writes to, at DEBUG (the note's level) and above.
        String errorHandler = "org.apache.camel.processor.errorhandler.DefaultErrorHandler";
        java.util.logging.Logger handlerLogger = java.util.logging.Logger.getLogger(errorHandler);
        java.util.logging.Level level = handlerLogger.getLevel();
        handlerLogger.setLevel(java.util.logging.Level.FINE);
        try (LogCapture log = LogCapture.of(errorHandler, java.util.logging.Level.FINE)) {
            Webhooks.postShopify(headers, body).then().statusCode(503)
                    .header("Retry-After", equalTo("1"))
                    .contentType("application/json")
                    .body("error.code", equalTo("overloaded"));
            assertNothingWritten(webhookId);
            assertEquals(List.of(), log.lines(), "the refusal is the answer's to report, not the error handler's");
        } finally {
            handlerLogger.setLevel(level);
            for (org.apache.camel.Exchange exchange : held) {
                exchange.getExchangeExtension().handoverCompletions().forEach(done -> done.onComplete(exchange));
            }
        }
        assertEquals(0, admission.inFlight(), "every place given back");
        Webhooks.postShopify(headers, body).then().statusCode(200).body("status", equalTo("accepted"));
    }
}
