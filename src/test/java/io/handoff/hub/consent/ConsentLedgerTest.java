package io.handoff.hub.consent;

import static io.handoff.hub.support.HubTestResource.ADMIN_TOKEN;
import static io.handoff.hub.support.HubTestResource.CHECKOUT_SECRET;
import static io.handoff.hub.support.HubTestResource.SHOPIFY_SECRET;
import static java.nio.charset.StandardCharsets.UTF_8;
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

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEvent.TimeSource;
import io.handoff.hub.event.EventType;
import io.handoff.hub.support.Fixtures;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.KafkaMarkedTest;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;

@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class ConsentLedgerTest extends KafkaMarkedTest {

    @Override
    protected List<String> probedTopics() {
        return List.copyOf(topics.all());
    }

    @Inject
    ConsentLedger ledger;

    static String email() {
        return "c-" + UUID.randomUUID() + "@example.com";
    }

    /** Posts a consent change as the checkout system would and returns its event id. */
    static String consent(String email, String state, String time) {
        String id = Webhooks.newId();
        String body = "{\"type\": \"consent.changed\", \"timestamp\": \"" + time + "\", \"data\": {\"customer\": "
                + "{\"email\": \"" + email + "\"}, \"channel\": \"email\", \"state\": \"" + state + "\""
                + (state.equals("suppressed") ? ", \"reason\": \"hard_bounce\"" : "") + "}}";
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, id, body.getBytes(UTF_8)).then().statusCode(200);
        return id;
    }

    static JsonPath consentOf(String email) {
        return RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/customers/" + email + "/consent")
                .then().statusCode(200).extract().jsonPath();
    }

    /** Waits until the ledger recorded a decision for the event and returns the customer's consent view. */
    static JsonPath awaitDecision(String email, String eventId) {
        return await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
            var response = RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/customers/" + email + "/consent");
            return response.statusCode() == 200 ? response.jsonPath() : null;
        }, view -> view != null && view.getList("history.event.id").contains(eventId));
    }

    static Map<String, Object> historyOf(JsonPath view, String eventId) {
        return view.getList("history", Map.class).stream().filter(h -> eventId.equals(((Map<?, ?>) h.get("event")).get("id")))
                .map(h -> (Map<String, Object>) h).findFirst().orElseThrow();
    }

    @Test
    void optInOptOutAndALateOlderOptInAreExplained() {
        String email = email();
        String optIn = consent(email, "subscribed", "2026-11-20T10:00:00Z");
        awaitDecision(email, optIn);
        String optOut = consent(email, "unsubscribed", "2026-11-21T10:00:00Z");
        awaitDecision(email, optOut);
        String lateOptIn = consent(email, "subscribed", "2026-11-20T12:00:00Z");
        JsonPath view = awaitDecision(email, lateOptIn);

        assertEquals("unsubscribed", view.getString("consent[0].state"));
        assertEquals("2026-11-21T10:00:00Z", view.getString("consent[0].since"));
        assertEquals(optOut, view.getString("consent[0].event.id"));
        assertEquals("first-event", historyOf(view, optIn).get("rule"));
        assertEquals("applied", historyOf(view, optOut).get("decision"));
        assertEquals("newer-event", historyOf(view, optOut).get("rule"));
        assertEquals("ignored", historyOf(view, lateOptIn).get("decision"));
        assertEquals("older-than-current", historyOf(view, lateOptIn).get("rule"));
        assertEquals("unsubscribed", historyOf(view, lateOptIn).get("previousState"));

        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("email", email.toUpperCase())
                .get("/api/may-send").then().statusCode(200)
                .body("maySend", equalTo(false))
                .body("state", equalTo("unsubscribed"));
    }

    @Test
    void withinTheSkewWindowTheMoreRestrictiveEventWins() {
        String email = email();
        awaitDecision(email, consent(email, "subscribed", "2026-11-20T10:00:00Z"));
        String slightlyOlderOptOut = consent(email, "unsubscribed", "2026-11-20T09:59:57Z");
        JsonPath view = awaitDecision(email, slightlyOlderOptOut);
        assertEquals("skew-more-restrictive", historyOf(view, slightlyOlderOptOut).get("rule"));
        assertEquals("unsubscribed", view.getString("consent[0].state"));

        String slightlyNewerOptIn = consent(email, "subscribed", "2026-11-20T10:00:02Z");
        view = awaitDecision(email, slightlyNewerOptIn);
        assertEquals("skew-not-more-restrictive", historyOf(view, slightlyNewerOptIn).get("rule"));
        assertEquals("unsubscribed", view.getString("consent[0].state"));
    }

    @Test
    void suppressionCarriesItsReasonAndMaySendSaysNo() {
        String email = email();
        awaitDecision(email, consent(email, "subscribed", "2026-11-20T10:00:00Z"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("email", email).get("/api/may-send")
                .then().body("maySend", equalTo(true));
        JsonPath view = awaitDecision(email, consent(email, "suppressed", "2026-11-20T11:00:00Z"));
        assertEquals("suppressed", view.getString("consent[0].state"));
        assertEquals("hard_bounce", view.getString("consent[0].reason"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("email", email).queryParam("channel", "email")
                .queryParam("purpose", "marketing").get("/api/may-send")
                .then().statusCode(200).body("maySend", equalTo(false)).body("reason", equalTo("hard_bounce"));
    }

    @Test
    void eachChangeIsPublishedAsConsentAppliedWithItsOrigin() {
        String email = email();
        String optIn = consent(email, "subscribed", "2026-11-20T10:00:00Z");
        JsonPath view = awaitDecision(email, optIn);
        String hubId = view.getString("hubId");
        await().atMost(Duration.ofSeconds(10)).until(() -> written().stream()
                .anyMatch(r -> r.topic().equals("handoff.ledger") && hubId.equals(r.key())));
        List<ConsumerRecord<String, byte[]>> applied = written().stream()
                .filter(r -> r.topic().equals("handoff.ledger") && hubId.equals(r.key())).toList();
        assertEquals(1, applied.size());
        CanonicalEvent event = codec.read(applied.get(0).value(), applied.get(0).key());
        assertEquals("consent.applied", event.type().wireName());
        assertEquals("checkout", event.data().get("originSystem").asText());
        assertEquals(optIn, event.data().at("/originEvent/id").asText());
        assertEquals("subscribed", event.data().get("state").asText());
        assertEquals(email, event.data().at("/customer/email").asText());
        assertEquals(Instant.parse("2026-11-20T10:00:00Z"), event.time());
    }

    @Test
    void theSameEventAppliedTwiceChangesNothingAndIsRecordedAsDuplicate() {
        String email = email();
        var data = Json.MAPPER.createObjectNode();
        data.putObject("customer").put("email", email);
        data.put("channel", "email").put("purpose", "marketing").put("state", "unsubscribed");
        CanonicalEvent event = new CanonicalEvent("evt-" + UUID.randomUUID(), "/systems/klaviyo",
                EventType.CONSENT_CHANGED, "x", Instant.parse("2026-11-20T10:00:00Z"), Instant.now(),
                TimeSource.PAYLOAD, Map.of(), data, "x");

        var first = ledger.apply(event).get(0);
        var second = ledger.apply(event).get(0);
        assertTrue(first.decision().applied());
        assertFalse(second.decision().applied());
        assertEquals("duplicate", second.decision().rule());
        assertEquals(first.applied().id(), second.applied().id(),
                "a redelivery republishes the same consent.applied (same id) in case the first publish was lost");
        JsonPath view = consentOf(email);
        assertEquals(List.of("applied", "ignored"), view.getList("history.decision"));
        assertEquals("unsubscribed", view.getString("consent[0].state"));
    }

    @Test
    void publishedShopifyConsentSamplesReachTheLedgerAsNonDecisions() {
        // The published email sample says not_subscribed with no consent time; the SMS sample's state is null.
        byte[] emailSample = Fixtures.shopifyPayload("customers_email_marketing_consent-update.json");
        String emailDelivery = UUID.randomUUID().toString();
        Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update", emailDelivery,
                emailSample, SHOPIFY_SECRET), emailSample).then().statusCode(200);
        JsonPath view = awaitDecision("bob@biller.com", emailDelivery);
        assertEquals("not-a-consent-decision", historyOf(view, emailDelivery).get("rule"));
        assertEquals("not_subscribed", historyOf(view, emailDelivery).get("state"));
        assertEquals(List.of("706405506930370084"), view.getList("systemIds.shopify"));

        byte[] smsSample = Fixtures.shopifyPayload("customers_marketing_consent-update.json");
        String smsDelivery = UUID.randomUUID().toString();
        Webhooks.postShopify(Webhooks.shopifyHeaders("customers_marketing_consent/update", smsDelivery, smsSample,
                SHOPIFY_SECRET), smsSample).then().statusCode(200);
        // The SMS sample has no email: it resolves through the Shopify id to the same customer.
        view = awaitDecision("bob@biller.com", smsDelivery);
        assertEquals("sms", historyOf(view, smsDelivery).get("channel"));
        assertEquals("ignored", historyOf(view, smsDelivery).get("decision"));

        byte[] optOut = ("{\"customer_id\": 706405506930370084, \"email_address\": \"bob@biller.com\", "
                + "\"email_marketing_consent\": {\"state\": \"unsubscribed\", \"opt_in_level\": \"single_opt_in\", "
                + "\"consent_updated_at\": \"2030-01-01T00:00:00-05:00\"}}").getBytes(UTF_8);
        String optOutDelivery = UUID.randomUUID().toString();
        Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update", optOutDelivery,
                optOut, SHOPIFY_SECRET), optOut).then().statusCode(200);
        view = awaitDecision("bob@biller.com", optOutDelivery);
        assertEquals("applied", historyOf(view, optOutDelivery).get("decision"));
        assertEquals("shopify", historyOf(view, optOutDelivery).get("sourceSystem"));
    }

    @Test
    void adminApiNeedsTheTokenAndAnswersBadInputWith4xx() {
        RestAssured.given().get("/api/customers/a@example.com/consent").then().statusCode(401)
                .body("error.code", equalTo("unauthorized"));
        RestAssured.given().queryParam("email", "a@example.com").get("/api/may-send").then().statusCode(401);
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/customers/not-an-email/consent")
                .then().statusCode(400).body("error.code", equalTo("invalid_email"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("email", "nope").get("/api/may-send")
                .then().statusCode(400).body("error.code", equalTo("invalid_email"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("email", "a@example.com")
                .queryParam("channel", "fax").get("/api/may-send")
                .then().statusCode(400).body("error.code", equalTo("invalid_channel"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/customers/" + email() + "/consent")
                .then().statusCode(404).body("error.code", equalTo("unknown_customer"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("email", email()).get("/api/may-send")
                .then().statusCode(200).body("maySend", equalTo(false)).body("why", equalTo("no consent on record"));
    }

    @Test
    void concurrentDecisionsForOneNewCustomerEndInTheLatestEventsState() throws Exception {
        // As from several replicas: 8 events for one customer nobody knew, applied at once in any order.
        String email = email();
        Instant base = Instant.parse("2026-11-20T10:00:00Z");
        List<CanonicalEvent> events = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            var data = Json.MAPPER.createObjectNode();
            data.putObject("customer").put("email", email);
            data.put("channel", "email").put("purpose", "marketing").put("state", i % 2 == 0 ? "subscribed" : "unsubscribed");
            events.add(new CanonicalEvent("race-" + i + "-" + UUID.randomUUID(), "/systems/checkout",
                    EventType.CONSENT_CHANGED, "x", base.plusSeconds(60L * i), Instant.now(), TimeSource.PAYLOAD,
                    Map.of(), data, "x"));
        }
        java.util.Collections.shuffle(events);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            var go = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (CanonicalEvent event : events) {
                done.add(pool.submit(() -> {
                    go.await();
                    return ledger.apply(event);
                }));
            }
            go.countDown();
            for (var f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        JsonPath view = consentOf(email);
        assertEquals(8, view.getList("history").size(), "every event is in the history once");
        assertEquals("unsubscribed", view.getString("consent[0].state"), "the latest event (i = 7) decides");
        assertEquals(base.plusSeconds(420).toString(), view.getString("consent[0].since"));
        assertEquals(1, view.getList("consent").size());
    }
}
