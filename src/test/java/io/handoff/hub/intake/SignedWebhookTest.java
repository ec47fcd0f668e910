package io.handoff.hub.intake;

import static io.handoff.hub.support.HubTestResource.CHECKOUT_SECRET;
import static io.handoff.hub.support.HubTestResource.LOYALTY_PREVIOUS_SECRET;
import static io.handoff.hub.support.HubTestResource.LOYALTY_SECRET;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.fasterxml.jackson.databind.JsonNode;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.intake.signed.StandardWebhookVerifier;
import io.handoff.hub.support.DeliveryKeys;
import io.handoff.hub.support.Fixtures;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.KafkaMarkedTest;
import io.handoff.hub.support.Pii;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class SignedWebhookTest extends KafkaMarkedTest {

    static final String UNSUBSCRIBE = """
            {"type": "consent.changed", "timestamp": "2026-11-20T09:30:00+01:00",
             "data": {"customer": {"email": "  Jane.Doe@Example.COM ", "ids": {"klaviyo": "01HZX5J3Q4"}},
                      "channel": "email", "purpose": "marketing", "state": "unsubscribed"}}""";

    @Test
    void signedConsentChangeIsPublishedWithTheSourceEventTime() {
        String id = Webhooks.newId();
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, id, UNSUBSCRIBE.getBytes(UTF_8))
                .then().statusCode(200)
                .body("status", equalTo("accepted"))
                .body("type", equalTo("consent.changed"))
                .body("topic", equalTo("handoff.consent"));

        List<ConsumerRecord<String, byte[]>> records = written();
        assertEquals(1, records.size());
        CanonicalEvent event = codec.read(records.get(0).value(), records.get(0).key());
        assertEquals(id, event.id());
        assertEquals("/systems/checkout", event.source());
        assertEquals(Instant.parse("2026-11-20T08:30:00Z"), event.time());
        assertEquals("payload", event.timeSource().wireName());
        assertEquals("jane.doe@example.com", event.data().at("/customer/email").asText());
        assertEquals("emailsha256:" + Pii.emailHash("jane.doe@example.com"), records.get(0).key());
        assertEquals(1, DeliveryKeys.stored(dataSource, "checkout:" + id));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "order.placed|handoff.order|{\"order\": {\"id\": \"A-100\", \"channel\": \"amazon\", \"totalPrice\": \"19.90\"}, \"customer\": {\"email\": \"a@b.example\"}, \"lines\": [{\"sku\": \"SKU-1\", \"quantity\": 2, \"price\": \"9.95\"}]}",
            "inventory.changed|handoff.inventory|{\"sku\": \"SKU-1\", \"locationId\": \"DC-1\", \"available\": 0}",
            "loyalty.tier.changed|handoff.loyalty|{\"customer\": {\"ids\": {\"loyalty\": \"M-77\"}}, \"tier\": \"gold\", \"previousTier\": \"silver\"}",
            "promotion.eligibility.changed|handoff.promotion|{\"customer\": {\"email\": \"a@b.example\"}, \"promotionId\": \"SPRING\", \"eligible\": true}",
            "waitlist.joined|handoff.waitlist|{\"customer\": {\"email\": \"a@b.example\"}, \"sku\": \"SKU-1\"}",
            "feed.synced|handoff.feed|{\"feed\": \"erp-inventory\", \"records\": 1200, \"watermark\": \"2026-11-20T08:00:00Z\", \"durationMs\": 5400}",
            "address.validated|handoff.address|{\"customer\": {\"email\": \"a@b.example\"}, \"use\": \"shipping\", \"address\": {\"line1\": \"1 Main St\", \"city\": \"Springfield\", \"postalCode\": \"62701-1234\", \"countryCode\": \"US\"}, \"validator\": {\"name\": \"smarty\", \"verdict\": {\"dpv_match_code\": \"Y\"}}}",
            "customer.merged|handoff.customer|{\"survivor\": {\"ids\": {\"erp\": \"C-1\"}}, \"merged\": [{\"ids\": {\"erp\": \"C-2\"}}]}" })
    void everyCanonicalTypeGoesToItsDomainTopic(String type, String topic, String data) {
        String body = "{\"type\": \"" + type + "\", \"timestamp\": \"2026-11-20T08:00:00Z\", \"data\": " + data + "}";
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, Webhooks.newId(), body.getBytes(UTF_8))
                .then().statusCode(200).body("topic", equalTo(topic));
        List<ConsumerRecord<String, byte[]>> records = written();
        assertEquals(1, records.size());
        assertEquals(topic, records.get(0).topic());
        assertEquals(type, codec.read(records.get(0).value(), records.get(0).key()).type().wireName());
    }

    @Test
    void publishedKnownAnswerVectorFrom2021IsRejectedAsTooOld() {
        JsonNode known = Fixtures.json("standard-webhooks/test-vectors.json").get("published_vectors").get(0);
        String id = known.get("webhook-id").asText();
        Webhooks.signedRequest(id, known.get("webhook-timestamp").asLong(), known.get("expected_signature").asText(),
                known.get("body").asText().getBytes(UTF_8))
                .post("/webhooks/checkout")
                .then().statusCode(401)
                .body("error.code", equalTo("invalid_signature"))
                .body("error.message", equalTo("webhook-timestamp outside the tolerance"));
        assertEquals(List.of(), written());
        assertFalse(DeliveryKeys.held("checkout:" + id));
    }

    @Test
    void multiSignatureHeaderWithThePreviousSecretIsAccepted() {
        String id = Webhooks.newId();
        long now = Instant.now().getEpochSecond();
        byte[] body = UNSUBSCRIBE.getBytes(UTF_8);
        String header = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,abc "
                + StandardWebhookVerifier.sign(LOYALTY_PREVIOUS_SECRET, id, now, body);
        Webhooks.signedRequest(id, now, header, body).post("/webhooks/loyalty").then().statusCode(200);
        Webhooks.postSigned("loyalty", LOYALTY_SECRET, Webhooks.newId(), body).then().statusCode(200);
        assertEquals(2, written().size());
    }

    @Test
    void signatureOfAnotherSystemIs401() {
        String id = Webhooks.newId();
        Webhooks.postSigned("loyalty", CHECKOUT_SECRET, id, UNSUBSCRIBE.getBytes(UTF_8)).then().statusCode(401);
        Webhooks.signedRequest(id, Instant.now().getEpochSecond(), "", UNSUBSCRIBE.getBytes(UTF_8))
                .post("/webhooks/loyalty").then().statusCode(401);
        assertEquals(List.of(), written());
        assertFalse(DeliveryKeys.held("loyalty:" + id));
    }

    @Test
    void payloadViolatingTheSchemaIs400ListingEveryViolation() {
        String id = Webhooks.newId();
        String body = """
                {"type": "consent.changed", "timestamp": "2026-11-20T09:30:00Z",
                 "data": {"customer": {}, "channel": "fax", "state": "suppressed"}}""";
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, id, body.getBytes(UTF_8))
                .then().statusCode(400)
                .contentType("application/json")
                .body("error.code", equalTo("invalid_payload"))
                .body("violations", hasItem(org.hamcrest.Matchers.containsString("/data/channel")))
                .body("violations", hasItem(org.hamcrest.Matchers.containsString("reason")));
        assertEquals(List.of(), written());
        assertFalse(DeliveryKeys.held("checkout:" + id));
    }

    @Test
    void unknownTypeMissingTimestampAndMalformedJsonAre400() {
        String id = Webhooks.newId();
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, id,
                "{\"type\": \"coupon.redeemed\", \"timestamp\": \"2026-11-20T09:30:00Z\", \"data\": {}}".getBytes(UTF_8))
                .then().statusCode(400).body("violations", hasItem(org.hamcrest.Matchers.containsString("/type")));
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, id,
                "{\"type\": \"consent.changed\", \"data\": {}}".getBytes(UTF_8))
                .then().statusCode(400).body("violations", hasItem(org.hamcrest.Matchers.containsString("timestamp")));
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, id, "{\"type\": ".getBytes(UTF_8))
                .then().statusCode(400).body("error.code", equalTo("malformed_json"));
        assertEquals(List.of(), written());
    }

    @Test
    void eventLargerThanKafkaTakesIs413AndNothingIsKept() {
        // The test profile takes bodies and Kafka records of up to 65536 bytes each (hub.intake.max-body-bytes and
        // hub.intake.max-event-bytes), as production takes both up to 1 MiB: a body just under the body limit makes an
        // event over the record limit once the CloudEvent envelope is around it. Kafka would refuse it on every retry,
        // so 503 (retry) would be wrong.
        StringBuilder lines = new StringBuilder();
        // Compact JSON, as the event carries it, so that the body and the event's data are the same size.
        while (lines.length() < 65_250) {
            lines.append(lines.isEmpty() ? "" : ",").append("{\"sku\":\"SKU-").append(lines.length())
                    .append("\",\"quantity\":1,\"price\":\"9.95\"}");
        }
        byte[] body = ("{\"type\":\"order.placed\",\"timestamp\":\"2026-11-20T08:00:00Z\",\"data\":"
                + "{\"order\":{\"id\":\"BIG-1\"},\"customer\":{\"email\":\"big@example.com\"},\"lines\":["
                + lines + "]}}").getBytes(UTF_8);
        assertTrue(body.length <= 65536, body.length + " bytes");
        String id = Webhooks.newId();
        for (int attempt = 0; attempt < 2; attempt++) {
            Webhooks.postSigned("checkout", CHECKOUT_SECRET, id, body).then().statusCode(413)
                    .contentType("application/json").header("Retry-After", org.hamcrest.Matchers.nullValue())
                    .body("error.code", equalTo("payload_too_large"));
        }
        assertEquals(List.of(), written());
        assertFalse(DeliveryKeys.held("checkout:" + id), "no delivery key kept");
        assertEquals(0, DeliveryKeys.count(dataSource, "checkout:" + id));
    }

    @Test
    void duplicateWebhookIdProducesOneEvent() {
        String id = Webhooks.newId();
        byte[] body = UNSUBSCRIBE.getBytes(UTF_8);
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, id, body).then().body("status", equalTo("accepted"));
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, id, body).then().statusCode(200)
                .body("status", equalTo("duplicate"));
        assertEquals(1, written().size());
    }

    @Test
    void unconfiguredSystemIs404() {
        Webhooks.postSigned("erp", CHECKOUT_SECRET, Webhooks.newId(), UNSUBSCRIBE.getBytes(UTF_8))
                .then().statusCode(404)
                .contentType("application/json")
                .body("error.code", equalTo("unknown_system"));
        RestAssured.given().contentType("application/json").body("{}").post("/webhooks/Not_A_Name")
                .then().statusCode(404);
        assertEquals(List.of(), written());
    }

    @Test
    void declaredCharsetDoesNotReencodeTheEvent() {
        String body = "{\"type\": \"loyalty.tier.changed\", \"timestamp\": \"2026-11-20T08:00:00Z\", \"data\": "
                + "{\"customer\": {\"email\": \"jose@example.com\"}, \"tier\": \"Or \u00e9toil\u00e9 Jos\u00e9\"}}";
        byte[] bytes = body.getBytes(UTF_8);
        String id = Webhooks.newId();
        long now = Instant.now().getEpochSecond();
        RestAssured.given().contentType("application/json; charset=ISO-8859-1")
                .header("webhook-id", id).header("webhook-timestamp", Long.toString(now))
                .header("webhook-signature", StandardWebhookVerifier.sign(CHECKOUT_SECRET, id, now, bytes))
                .body(bytes).post("/webhooks/checkout").then().statusCode(200);
        List<ConsumerRecord<String, byte[]>> records = written();
        assertEquals(1, records.size());
        assertEquals("Or \u00e9toil\u00e9 Jos\u00e9",
                codec.read(records.get(0).value(), records.get(0).key()).data().get("tier").asText());
    }

    @Test
    void inboundRetryAfterIsNotEchoed() {
        Webhooks.signedRequest(Webhooks.newId(), Instant.now().getEpochSecond(), "v1,AAAA", UNSUBSCRIBE.getBytes(UTF_8))
                .header("Retry-After", "999").post("/webhooks/checkout")
                .then().statusCode(401).header("Retry-After", org.hamcrest.Matchers.nullValue());
    }
}
