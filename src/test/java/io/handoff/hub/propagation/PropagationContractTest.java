package io.handoff.hub.propagation;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static io.handoff.hub.support.HubTestResource.ADMIN_TOKEN;
import static io.handoff.hub.support.HubTestResource.CHECKOUT_SECRET;
import static io.handoff.hub.support.HubTestResource.SHOPIFY_SECRET;
import static io.handoff.hub.support.Receipts.latest;
import static io.handoff.hub.support.Receipts.status;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Level;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.identity.IdentityResolver.CustomerRef;
import io.handoff.hub.kafka.HubTopics;
import io.handoff.hub.support.ContractSchemas;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.KafkaProbe;
import io.handoff.hub.support.LogCapture;
import io.handoff.hub.support.Receipts;
import io.handoff.hub.support.VendorStubs;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

/**
 * End to end against WireMock stubs of each vendor: a signed webhook goes in, the ledger decides, and each subscriber
 * system receives the change through its real API, each request checked against the vendor's published contract.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
@QuarkusTestResource(value = VendorStubs.class, restrictToAnnotatedClass = true)
class PropagationContractTest {

    static final String KLAVIYO_SCHEMAS = "/vendor-contracts/klaviyo/";
    static final String HUBSPOT_V4 = "/vendor-contracts/hubspot/communication-preferences-v4.operations.json";
    static final String HUBSPOT_BATCH_WRITE = "/operations/POST ~1communication-preferences~1v4~1statuses~1batch~1write"
            + "/requestBody/content/application~1json/schema";
    static final String LOYALTY_SCHEMA = "/vendor-contracts/loyalty/consent-event.request.schema.json";
    static final Duration PROPAGATED = Duration.ofSeconds(20);

    @Inject
    IdentityResolver identity;

    @Inject
    HubTopics topics;

    @Inject
    PropagationPlanner planner;

    @BeforeEach
    void freshStubs() {
        VendorStubs.defaults();
    }

    @Test
    void aShopifyOptOutReachesEverySubscriberButShopifyInTheShapeEachApiTakes() {
        String email = unique("opt-out");
        String contact = "003" + random(15);
        String member = "M-" + random(8);
        identity.resolve(new CustomerRef(email, Map.of("salesforce", contact, "loyalty", member)));
        String shopifyId = Long.toString(7_000_000_000_000_000_000L + Math.abs(UUID.randomUUID().getLeastSignificantBits() % 1_000_000_000L));

        shopifyConsent(email, shopifyId, "unsubscribed", "2026-11-20T09:30:00-05:00");

        List<Map<String, Object>> receipts = Receipts.awaitUntil(email, PROPAGATED,
                status("delivered", "klaviyo", "salesforce", "hubspot", "loyalty"));
        Map<String, Object> shopify = latest(receipts, "shopify");
        assertEquals("skipped", shopify.get("status"), "the change came from Shopify: it is not sent back");
        assertTrue(((String) shopify.get("statusReason")).startsWith("origin-system"));
        for (String system : List.of("klaviyo", "salesforce", "hubspot", "loyalty")) {
            Map<String, Object> r = latest(receipts, system);
            assertEquals("unsubscribed", r.get("state"));
            assertEquals(1, r.get("attempts"), system);
            assertNotNull(r.get("confirmedAt"), system);
            assertTrue(((Number) r.get("delayMs")).longValue() >= 0, system + " delay from the webhook's receipt");
        }

        // Klaviyo: one unsubscribe job, account-wide (the marketing purpose), valid for revision 2026-07-15.
        LoggedRequest job = only(VendorStubs.klaviyo, "/api/profile-subscription-bulk-delete-jobs", email);
        assertEquals("Klaviyo-API-Key " + VendorStubs.KLAVIYO_KEY, job.getHeader("Authorization"));
        assertEquals("2026-07-15", job.getHeader("revision"));
        assertEquals("application/vnd.api+json", job.getHeader("Content-Type"));
        JsonNode body = json(job);
        assertEquals(List.of(), ContractSchemas.violations(KLAVIYO_SCHEMAS + "bulk_unsubscribe_profiles.request.schema.json", body));
        JsonNode profile = body.at("/data/attributes/profiles/data/0/attributes");
        assertEquals(email, profile.path("email").asText());
        assertEquals("UNSUBSCRIBED", profile.at("/subscriptions/email/marketing/consent").asText());
        assertTrue(profile.at("/subscriptions/sms").isMissingNode(), "SMS consent is left alone");

        // Salesforce: the Contact's email opt-out, by its id, with the bearer token.
        LoggedRequest sf = only(VendorStubs.salesforce, "/services/data/v64.0/sobjects/Contact/" + contact);
        assertEquals("PATCH", sf.getMethod().getName());
        assertEquals("Bearer " + VendorStubs.SALESFORCE_TOKEN, sf.getHeader("Authorization"));
        assertEquals(Json.MAPPER.createObjectNode().put("HasOptedOutOfEmail", true), json(sf));

        // HubSpot: a v4 batch write, valid against the published request schema.
        LoggedRequest hs = only(VendorStubs.hubspot, "/communication-preferences/v4/statuses/batch/write", email);
        assertEquals("Bearer " + VendorStubs.HUBSPOT_TOKEN, hs.getHeader("Authorization"));
        assertEquals(List.of(), ContractSchemas.violations(HUBSPOT_V4, HUBSPOT_BATCH_WRITE, json(hs)));
        JsonNode input = json(hs).at("/inputs/0");
        assertEquals("UNSUBSCRIBED", input.path("statusState").asText());
        assertEquals(VendorStubs.HUBSPOT_SUBSCRIPTION, input.path("subscriptionId").asLong());
        assertTrue(input.path("subscriptionId").isIntegralNumber(), "v4 takes the subscription id as an integer");

        // The loyalty platform (YAML-defined from the rest-subscriber template): its own contract.
        LoggedRequest loyal = only(VendorStubs.loyalty, "/api/v1/consent-events", email);
        assertEquals(VendorStubs.LOYALTY_KEY, loyal.getHeader("X-Api-Key"));
        assertEquals(latest(receipts, "loyalty").get("changeId"), loyal.getHeader("Idempotency-Key"));
        assertEquals(List.of(), ContractSchemas.violations(LOYALTY_SCHEMA, json(loyal)));
        assertEquals(member, json(loyal).path("memberId").asText());
        assertFalse(json(loyal).path("optIn").asBoolean(true));
        assertEquals("2026-11-20T14:30:00Z", json(loyal).path("occurredAt").asText(), "the customer's own time");

        assertEquals(0, requests(VendorStubs.shopify, null, new String[] { shopifyId }).size(), "nothing goes back to Shopify");
    }

    @Test
    void aChangeFromElsewhereReachesShopifyThroughGraphqlAndFindsTheContactByEmail() {
        String email = unique("to-shopify");
        String shopifyId = Long.toString(8_100_000_000_000_000_000L + Math.abs(UUID.randomUUID().getMostSignificantBits() % 1_000_000L));
        identity.resolve(new CustomerRef(email, Map.of("shopify", shopifyId)));
        String contact = "003" + random(15);
        VendorStubs.salesforce.stubFor(get(urlPathEqualTo("/services/data/v64.0/query")).atPriority(1)
                .withQueryParam("q", containing(email))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"totalSize\":1,\"done\":true,\"records\":[{\"attributes\":{\"type\":\"Contact\","
                                + "\"url\":\"/services/data/v64.0/sobjects/Contact/" + contact + "\"},\"Id\":\"" + contact
                                + "\",\"Email\":\"" + email + "\"}]}")));

        checkoutConsent(email, "subscribed", "2026-11-22T08:00:00Z");

        Receipts.awaitUntil(email, PROPAGATED, status("delivered", "shopify", "salesforce", "klaviyo", "hubspot", "loyalty"));
        LoggedRequest gql = only(VendorStubs.shopify, "/admin/api/2026-07/graphql.json", shopifyId);
        assertEquals(VendorStubs.SHOPIFY_TOKEN, gql.getHeader("X-Shopify-Access-Token"));
        JsonNode body = json(gql);
        assertTrue(body.path("query").asText().contains("customerEmailMarketingConsentUpdate(input: $input)"));
        JsonNode input = body.at("/variables/input");
        assertEquals("gid://shopify/Customer/" + shopifyId, input.path("customerId").asText());
        assertEquals("SUBSCRIBED", input.at("/emailMarketingConsent/marketingState").asText());
        assertEquals("SINGLE_OPT_IN", input.at("/emailMarketingConsent/marketingOptInLevel").asText());
        assertEquals("2026-11-22T08:00:00Z", input.at("/emailMarketingConsent/consentUpdatedAt").asText());

        // Salesforce: found by a SOQL query on the email, then updated; the id is linked for next time.
        LoggedRequest query = only(VendorStubs.salesforce, "/services/data/v64.0/query", null, email);
        assertTrue(query.queryParameter("q").firstValue().startsWith("SELECT Id, Email FROM Contact WHERE Email IN ('"));
        assertEquals(Json.MAPPER.createObjectNode().put("HasOptedOutOfEmail", false),
                json(only(VendorStubs.salesforce, "/services/data/v64.0/sobjects/Contact/" + contact)));
        assertEquals(List.of(contact), identity.systemIds(identity.byEmail(email).orElseThrow()).get("salesforce"));

        // Klaviyo: a subscribe job carrying the customer's own consent time (no second opt-in mail).
        JsonNode subscribe = json(only(VendorStubs.klaviyo, "/api/profile-subscription-bulk-create-jobs", email));
        assertEquals(List.of(), ContractSchemas.violations(KLAVIYO_SCHEMAS + "bulk_subscribe_profiles.request.schema.json", subscribe));
        assertEquals("2026-11-22T08:00:00Z",
                subscribe.at("/data/attributes/profiles/data/0/attributes/subscriptions/email/marketing/consented_at").asText());
        JsonNode hubspot = json(only(VendorStubs.hubspot, "/communication-preferences/v4/statuses/batch/write", email));
        assertEquals(List.of(), ContractSchemas.violations(HUBSPOT_V4, HUBSPOT_BATCH_WRITE, hubspot));
        assertEquals("CONSENT_WITH_NOTICE", hubspot.at("/inputs/0/legalBasis").asText());
    }

    @Test
    void fiveHundredsTimeoutsThrottlesAnd429WithRetryAfterEndDelivered() {
        String email = unique("flaky");
        String contact = "003" + random(15);
        String shopifyId = Long.toString(8_200_000_000_000_000_000L + Math.abs(UUID.randomUUID().getMostSignificantBits() % 1_000_000L));
        identity.resolve(new CustomerRef(email, Map.of("salesforce", contact, "shopify", shopifyId)));
        String scenario = "flaky-" + email;
        VendorStubs.klaviyo.stubFor(post(urlPathMatching("/api/profile-subscription-bulk-delete-jobs")).atPriority(1)
                .withRequestBody(containing(email)).inScenario(scenario).whenScenarioStateIs("Started")
                .willReturn(aResponse().withStatus(500).withBody("{\"errors\":[]}")).willSetStateTo("recovered"));
        VendorStubs.salesforce.stubFor(patch(urlPathEqualTo("/services/data/v64.0/sobjects/Contact/" + contact))
                .atPriority(1).inScenario(scenario).whenScenarioStateIs("Started")
                .willReturn(aResponse().withStatus(204).withFixedDelay(2500)).willSetStateTo("recovered"));
        VendorStubs.hubspot.stubFor(post(urlPathEqualTo("/communication-preferences/v4/statuses/batch/write")).atPriority(1)
                .withRequestBody(containing(email)).inScenario(scenario).whenScenarioStateIs("Started")
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "1")
                        .withBody("{\"status\":\"error\",\"category\":\"RATE_LIMITS\"}"))
                .willSetStateTo("recovered"));
        VendorStubs.shopify.stubFor(post(urlPathEqualTo("/admin/api/2026-07/graphql.json")).atPriority(1)
                .withRequestBody(containing(shopifyId)).inScenario(scenario).whenScenarioStateIs("Started")
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"errors\":[{\"message\":\"Throttled\",\"extensions\":{\"code\":\"THROTTLED\"}}],"
                                + "\"extensions\":{\"cost\":{\"requestedQueryCost\":10,\"actualQueryCost\":null,"
                                + "\"throttleStatus\":{\"maximumAvailable\":2000.0,\"currentlyAvailable\":0,"
                                + "\"restoreRate\":100.0}}}}"))
                .willSetStateTo("recovered"));
        VendorStubs.loyalty.stubFor(post(urlPathEqualTo("/api/v1/consent-events")).atPriority(1)
                .withRequestBody(containing(email)).inScenario(scenario).whenScenarioStateIs("Started")
                .willReturn(aResponse().withStatus(503)).willSetStateTo("recovered"));

        List<Map<String, Object>> receipts;
        try (LogCapture errors = LogCapture.of("org.apache.camel", Level.SEVERE)) {
            checkoutConsent(email, "unsubscribed", "2026-11-22T09:00:00Z");

            receipts = Receipts.awaitUntil(email, PROPAGATED,
                    status("delivered", "klaviyo", "salesforce", "hubspot", "shopify", "loyalty"));
            // The loyalty route (YAML, rest-subscriber template) hands its failure back to the lane, which retried it.
            assertEquals(List.of(), errors.containing("/api/v1/consent-events"),
                    "a failed call the lane retries is no ERROR line");
        }
        for (String system : List.of("klaviyo", "salesforce", "hubspot", "shopify", "loyalty")) {
            assertEquals(2, latest(receipts, system).get("attempts"), system + ": failed once, then delivered");
        }
        List<LoggedRequest> hubspot = requests(VendorStubs.hubspot, "/communication-preferences/v4/statuses/batch/write", email);
        assertEquals(2, hubspot.size());
        long waited = hubspot.get(1).getLoggedDate().getTime() - hubspot.get(0).getLoggedDate().getTime();
        assertTrue(waited >= 1000, "HubSpot asked for 1 s with Retry-After; the lane waited " + waited + " ms");

        Map<String, Object> sf = RestAssured.given().auth().oauth2(ADMIN_TOKEN)
                .get("/api/deliveries?system=salesforce&limit=50").jsonPath().getList("deliveries", Map.class).stream()
                .filter(d -> contact.equals(d.get("systemId"))).findFirst().orElseThrow();
        assertNotNull(sf.get("answer"));
        assertEquals(204, ((Map<?, ?>) sf.get("answer")).get("status"));
    }

    @Test
    void aSystemDownForTheWholeRunIsParkedListedAndDeliveredAfterReplayWhileTheOthersStayOnTime() throws Exception {
        String email = unique("hubspot-down");
        identity.resolve(new CustomerRef(email, Map.of("salesforce", "003" + random(15), "shopify",
                Long.toString(8_300_000_000_000_000_000L + Math.abs(UUID.randomUUID().getMostSignificantBits() % 1_000_000L)))));
        VendorStubs.hubspot.stubFor(post(urlPathEqualTo("/communication-preferences/v4/statuses/batch/write")).atPriority(1)
                .withRequestBody(containing(email))
                .willReturn(aResponse().withStatus(200).withFixedDelay(3000)));
        try (KafkaProbe deadLetters = new KafkaProbe(List.of(topics.deadLetter()))) {
            var mark = deadLetters.mark();
            long sent = System.currentTimeMillis();
            checkoutConsent(email, "unsubscribed", "2026-11-22T10:00:00Z");

            List<Map<String, Object>> onTime = Receipts.awaitUntil(email, Duration.ofSeconds(10),
                    status("delivered", "klaviyo", "salesforce", "shopify", "loyalty"));
            long elapsed = System.currentTimeMillis() - sent;
            assertTrue(elapsed < 2500, "the others were confirmed after " + elapsed + " ms, while HubSpot hangs for 3 s a call");
            for (String system : List.of("klaviyo", "salesforce", "shopify", "loyalty")) {
                long delay = ((Number) latest(onTime, system).get("delayMs")).longValue();
                assertTrue(delay < 2000, system + " waited " + delay + " ms behind a down HubSpot");
            }
            assertNotEquals("delivered", latest(onTime, "hubspot").get("status"));

            List<Map<String, Object>> parked = Receipts.awaitUntil(email, PROPAGATED, status("failed", "hubspot"));
            Map<String, Object> failed = latest(parked, "hubspot");
            assertEquals(4, failed.get("attempts"), "hub.propagation.max-attempts");
            long id = ((Number) failed.get("id")).longValue();
            ConsumerRecord<String, byte[]> letter = org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> deadLetters.since(mark).stream()
                            .filter(r -> Long.toString(id).equals(KafkaProbe.header(r, DeadLetterParking.DELIVERY_ID)))
                            .findFirst().orElse(null), r -> r != null);
            assertEquals("propagation-lane:hubspot", KafkaProbe.header(letter, "handoff_failed_route"));
            assertEquals(topics.forDomain(io.handoff.hub.event.EventType.Domain.LEDGER),
                    KafkaProbe.header(letter, "handoff_original_topic"));
            JsonNode parkedReceipt = Json.MAPPER.readTree(letter.value());
            assertEquals("hubspot", parkedReceipt.path("system").asText());
            assertEquals(4, parkedReceipt.path("attemptLog").size(), "every attempt is in the dead letter");

            RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("status", "failed").queryParam("system", "hubspot")
                    .get("/api/deliveries").then().statusCode(200)
                    .body("deliveries.find { it.id == " + id + " }.status", equalTo("failed"))
                    .body("deliveries.find { it.id == " + id + " }.email", equalTo(email));

            // HubSpot is back: replaying the parked delivery delivers it.
            VendorStubs.defaults();
            RestAssured.given().auth().oauth2(ADMIN_TOKEN).post("/api/deliveries/" + id + "/replay").then()
                    .statusCode(202).body("status", equalTo("pending"));
            Map<String, Object> replayed = latest(Receipts.awaitUntil(email, PROPAGATED, status("delivered", "hubspot")), "hubspot");
            assertEquals(1, replayed.get("replays"));
            assertEquals(1, replayed.get("attempts"));
            RestAssured.given().auth().oauth2(ADMIN_TOKEN).post("/api/deliveries/" + id + "/replay").then()
                    .statusCode(409).body("error.code", equalTo("not_failed"));
        }
    }

    @Test
    void replayingEverythingParkedForASystemSendsOnlyTheNewestStatePerCustomer() {
        String first = unique("parked-a");
        String second = unique("parked-b");
        for (String email : List.of(first, second)) {
            VendorStubs.loyalty.stubFor(post(urlPathEqualTo("/api/v1/consent-events")).atPriority(1)
                    .withRequestBody(containing(email)).willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
        }
        checkoutConsent(first, "unsubscribed", "2026-11-22T11:00:00Z");
        checkoutConsent(second, "unsubscribed", "2026-11-22T11:00:00Z");
        Receipts.awaitUntil(first, PROPAGATED, status("failed", "loyalty"));
        Receipts.awaitUntil(second, PROPAGATED, status("failed", "loyalty"));
        // A newer change for the first customer while the loyalty platform is still down replaces the parked one.
        checkoutConsent(first, "subscribed", "2026-11-22T12:00:00Z");
        List<Map<String, Object>> firstReceipts = Receipts.awaitUntil(first, PROPAGATED,
                r -> r.stream().anyMatch(x -> "loyalty".equals(x.get("system")) && "superseded".equals(x.get("status")))
                        && "failed".equals(latest(r, "loyalty").get("status")));
        assertEquals("subscribed", latest(firstReceipts, "loyalty").get("state"), "the newest change is parked too");

        VendorStubs.defaults();
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("system", "loyalty").post("/api/deliveries/replay")
                .then().statusCode(202).body("system", equalTo("loyalty")).body("replayed", equalTo(2));
        Receipts.awaitUntil(second, PROPAGATED, status("delivered", "loyalty"));
        Receipts.awaitUntil(first, PROPAGATED, status("delivered", "loyalty"));
        List<LoggedRequest> toFirst = requests(VendorStubs.loyalty, "/api/v1/consent-events", first);
        assertEquals(1, toFirst.size(), "only the newest state of the first customer was sent after the outage");
        assertTrue(json(toFirst.get(0)).path("optIn").asBoolean());
    }

    @Test
    void aChangeMadeWhileAnOlderOneIsStillBeingSentWinsEvenIfTheOlderOneIsRetried() {
        String email = unique("in-flight");
        String scenario = "in-flight-" + email;
        // The opt-in's first call hangs past HubSpot's 800 ms response timeout; later calls are answered.
        VendorStubs.hubspot.stubFor(post(urlPathEqualTo("/communication-preferences/v4/statuses/batch/write")).atPriority(1)
                .withRequestBody(containing(email)).inScenario(scenario).whenScenarioStateIs("Started")
                .willReturn(aResponse().withStatus(200).withFixedDelay(1500)).willSetStateTo("answering"));
        checkoutConsent(email, "subscribed", "2026-11-22T15:00:00Z");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> !requests(VendorStubs.hubspot, "/communication-preferences/v4/statuses/batch/write", email).isEmpty());
        // The customer opts out while the opt-in's call to HubSpot is still hanging.
        checkoutConsent(email, "unsubscribed", "2026-11-22T15:00:30Z");

        List<Map<String, Object>> receipts = Receipts.awaitUntil(email, PROPAGATED, r -> r.stream()
                .filter(x -> "hubspot".equals(x.get("system"))).allMatch(x -> "delivered".equals(x.get("status"))
                        || "superseded".equals(x.get("status"))) && "delivered".equals(latest(r, "hubspot").get("status")));
        assertEquals("unsubscribed", latest(receipts, "hubspot").get("state"));
        Map<String, Object> optIn = receipts.stream().filter(x -> "hubspot".equals(x.get("system"))
                && "subscribed".equals(x.get("state"))).findFirst().orElseThrow();
        assertEquals("superseded", optIn.get("status"), "the opt-in is not retried after the opt-out: " + optIn);
        List<LoggedRequest> calls = requests(VendorStubs.hubspot, "/communication-preferences/v4/statuses/batch/write", email);
        assertEquals("UNSUBSCRIBED", json(calls.get(calls.size() - 1)).at("/inputs/0/statusState").asText(),
                "HubSpot's last word for this customer is the opt-out");
    }

    @Test
    void aLedgerEventTheLedgerHasMovedPastIsNotSentAnywhere() {
        String email = unique("stale");
        checkoutConsent(email, "unsubscribed", "2026-11-22T16:00:00Z");
        List<Map<String, Object>> before = Receipts.awaitUntil(email, PROPAGATED, status("delivered", "klaviyo", "hubspot"));
        String hubId = (String) latest(before, "klaviyo").get("hubId");
        // A consent.applied of an older decision arrives late (a replayed dead letter, say): an opt-in.
        com.fasterxml.jackson.databind.node.ObjectNode data = Json.MAPPER.createObjectNode();
        data.put("hubId", hubId).put("channel", "email").put("purpose", "marketing").put("state", "subscribed");
        data.putObject("customer").put("email", email).putObject("ids");
        data.put("originSystem", "checkout");
        data.putObject("originEvent").put("source", "/systems/checkout").put("id", "an-older-event");
        io.handoff.hub.event.CanonicalEvent stale = new io.handoff.hub.event.CanonicalEvent(
                "stale-" + UUID.randomUUID(), "/hub/consent-ledger", io.handoff.hub.event.EventType.CONSENT_APPLIED,
                "hub:" + hubId, java.time.Instant.parse("2026-11-22T15:00:00Z"), java.time.Instant.now(),
                io.handoff.hub.event.CanonicalEvent.TimeSource.PAYLOAD, Map.of(), data, hubId);

        assertEquals(java.util.Set.of(), planner.planConsent(stale), "no lane is woken");
        List<Map<String, Object>> after = Receipts.of(email).stream()
                .filter(r -> stale.id().equals(r.get("changeId"))).toList();
        assertEquals(5, after.size(), "one receipt per system");
        assertTrue(after.stream().allMatch(r -> "superseded".equals(r.get("status"))
                && ((String) r.get("statusReason")).startsWith("stale")), after.toString());
        org.awaitility.Awaitility.await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(2)).until(
                () -> requests(VendorStubs.klaviyo, "/api/profile-subscription-bulk-create-jobs", email).isEmpty());
    }

    @Test
    void aRefusalIsParkedAtOnceWithTheVendorsAnswer() {
        String email = unique("refused");
        VendorStubs.klaviyo.stubFor(post(urlPathEqualTo("/api/profile-subscription-bulk-delete-jobs")).atPriority(1)
                .withRequestBody(containing(email))
                .willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/vnd.api+json")
                        .withBody("{\"errors\":[{\"id\":\"e1\",\"code\":\"invalid\",\"title\":\"Invalid input.\","
                                + "\"detail\":\"The email is not valid.\",\"source\":{\"pointer\":\"/data\"}}]}")));
        checkoutConsent(email, "unsubscribed", "2026-11-22T13:00:00Z");
        Map<String, Object> failed = latest(Receipts.awaitUntil(email, PROPAGATED, status("failed", "klaviyo")), "klaviyo");
        assertEquals(1, failed.get("attempts"), "a 400 is not retried");
        assertTrue(((String) failed.get("statusReason")).contains("The email is not valid."), failed.toString());
        assertEquals(1, requests(VendorStubs.klaviyo, "/api/profile-subscription-bulk-delete-jobs", email).size());
    }

    @Test
    void aListScopedPurposeUnsubscribesListMembersOnlyNeverGlobally() {
        String member = unique("member");
        String stranger = unique("stranger");
        VendorStubs.klaviyo.stubFor(get(urlPathEqualTo("/api/lists/" + VendorStubs.KLAVIYO_NEWSLETTER_LIST + "/profiles"))
                .atPriority(1).withQueryParam("filter", equalToFilter(member))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/vnd.api+json")
                        .withBody("{\"data\":[{\"type\":\"profile\",\"id\":\"01K\",\"attributes\":{\"email\":\""
                                + member + "\"}}]}")));
        purposeConsent(member, "newsletter", "unsubscribed");
        purposeConsent(stranger, "newsletter", "unsubscribed");

        Receipts.awaitUntil(member, PROPAGATED, status("delivered", "klaviyo"));
        Map<String, Object> skipped = latest(Receipts.awaitUntil(stranger, PROPAGATED, status("skipped", "klaviyo")), "klaviyo");
        assertTrue(((String) skipped.get("statusReason")).startsWith("not-on-list"), skipped.toString());
        JsonNode job = json(only(VendorStubs.klaviyo, "/api/profile-subscription-bulk-delete-jobs", member));
        assertEquals(List.of(), ContractSchemas.violations(KLAVIYO_SCHEMAS + "bulk_unsubscribe_profiles.request.schema.json", job));
        assertEquals(VendorStubs.KLAVIYO_NEWSLETTER_LIST, job.at("/data/relationships/list/data/id").asText());
        assertEquals(0, requests(VendorStubs.klaviyo, "/api/profile-subscription-bulk-delete-jobs", stranger).size(),
                "a non-member is never sent: Klaviyo would unsubscribe them from everything");
        // HubSpot has no subscription type for this purpose: skipped, not guessed.
        assertTrue(((String) latest(Receipts.of(member), "hubspot").get("statusReason")).startsWith("purpose-not-mapped"));
    }

    @Test
    void aMergeNotifiesTheSystemsThatHeldTheMergedIds() {
        String survivor = unique("survivor");
        String merged = unique("merged");
        String survivorContact = "003" + random(15);
        String mergedContact = "003" + random(15);
        String mergedMember = "M-" + random(8);
        String erpSurvivor = "C-" + random(8);
        String erpMerged = "C-" + random(8);
        identity.resolve(new CustomerRef(survivor, Map.of("salesforce", survivorContact, "erp", erpSurvivor)));
        identity.resolve(new CustomerRef(merged, Map.of("salesforce", mergedContact, "loyalty", mergedMember, "erp", erpMerged)));
        checkoutConsent(survivor, "unsubscribed", "2026-11-21T10:00:00Z");
        checkoutConsent(merged, "subscribed", "2026-11-20T10:00:00Z");
        Receipts.awaitUntil(survivor, PROPAGATED, status("delivered", "salesforce", "klaviyo"));
        Receipts.awaitUntil(merged, PROPAGATED, status("delivered", "salesforce", "loyalty", "klaviyo", "hubspot"));

        String body = "{\"type\": \"customer.merged\", \"timestamp\": \"2026-11-22T08:00:00Z\", \"data\": {"
                + "\"survivor\": {\"ids\": {\"erp\": \"" + erpSurvivor + "\"}},"
                + "\"merged\": [{\"ids\": {\"erp\": \"" + erpMerged + "\"}}]}}";
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, Webhooks.newId(), body.getBytes(UTF_8)).then().statusCode(200);

        List<Map<String, Object>> receipts = Receipts.awaitUntil(survivor, PROPAGATED, r -> r.stream()
                .filter(x -> "merge".equals(x.get("kind")) && "delivered".equals(x.get("status"))).count() >= 4);
        // The merged customer's Contact gets the survivor's (combined) opt-out.
        List<LoggedRequest> patches = requests(VendorStubs.salesforce, "/services/data/v64.0/sobjects/Contact/" + mergedContact);
        assertEquals(Json.MAPPER.createObjectNode().put("HasOptedOutOfEmail", true), json(patches.get(patches.size() - 1)));
        // The loyalty member record the merged customer held.
        List<LoggedRequest> loyal = requests(VendorStubs.loyalty, "/api/v1/consent-events", mergedMember);
        JsonNode last = json(loyal.get(loyal.size() - 1));
        assertEquals(mergedMember, last.path("memberId").asText());
        assertFalse(last.path("optIn").asBoolean(true));
        // Systems keyed by email: the merged customer's address.
        assertEquals(1, requests(VendorStubs.klaviyo, "/api/profile-subscription-bulk-delete-jobs", merged).size());
        assertTrue(receipts.stream().anyMatch(r -> "merge".equals(r.get("kind")) && "hubspot".equals(r.get("system"))
                && merged.equals(r.get("email"))));
        assertNull(receipts.stream().filter(r -> "merge".equals(r.get("kind")) && "shopify".equals(r.get("system")))
                .findFirst().orElse(null), "Shopify held no id of the merged customer");
    }

    @Test
    void deliveriesApiRefusesBadInput() {
        RestAssured.given().get("/api/deliveries").then().statusCode(401);
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("status", "lost").get("/api/deliveries").then()
                .statusCode(400).body("error.code", equalTo("invalid_status"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("limit", "0").get("/api/deliveries").then()
                .statusCode(400).body("error.code", equalTo("invalid_limit"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).post("/api/deliveries/abc/replay").then().statusCode(400)
                .body("error.code", equalTo("invalid_id"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).post("/api/deliveries/999999999/replay").then().statusCode(404)
                .body("error.code", equalTo("unknown_delivery"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).post("/api/deliveries/replay").then().statusCode(400)
                .body("error.code", equalTo("missing_system"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("system", "Bad System").post("/api/deliveries/replay")
                .then().statusCode(400).body("error.code", equalTo("invalid_system"));
    }

    // --- helpers ---

    static com.github.tomakehurst.wiremock.matching.StringValuePattern equalToFilter(String email) {
        return com.github.tomakehurst.wiremock.client.WireMock.equalTo("equals(email,\"" + email + "\")");
    }

    static void shopifyConsent(String email, String shopifyId, String state, String at) {
        byte[] body = ("{\"customer_id\":" + shopifyId + ",\"email_address\":\"" + email + "\",\"email_marketing_consent\":"
                + "{\"state\":\"" + state + "\",\"opt_in_level\":\"single_opt_in\",\"consent_updated_at\":\"" + at + "\"}}")
                .getBytes(UTF_8);
        Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update",
                UUID.randomUUID().toString(), body, SHOPIFY_SECRET), body).then().statusCode(200);
    }

    static void checkoutConsent(String email, String state, String time) {
        String body = "{\"type\": \"consent.changed\", \"timestamp\": \"" + time + "\", \"data\": {\"customer\": "
                + "{\"email\": \"" + email + "\"}, \"channel\": \"email\", \"state\": \"" + state + "\"}}";
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, Webhooks.newId(), body.getBytes(UTF_8)).then().statusCode(200);
    }

    static void purposeConsent(String email, String purpose, String state) {
        String body = "{\"type\": \"consent.changed\", \"timestamp\": \"2026-11-22T14:00:00Z\", \"data\": {\"customer\": "
                + "{\"email\": \"" + email + "\"}, \"channel\": \"email\", \"purpose\": \"" + purpose + "\", \"state\": \""
                + state + "\"}}";
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, Webhooks.newId(), body.getBytes(UTF_8)).then().statusCode(200);
    }

    /** Requests a stub received on a path (all paths if null) whose URL or body contains every marker. */
    static List<LoggedRequest> requests(WireMockServer server, String path, String... markers) {
        String[] wanted = markers == null ? new String[0] : markers;
        return server.getAllServeEvents().stream().map(e -> e.getRequest())
                .filter(r -> path == null || r.getUrl().split("\\?")[0].equals(path))
                .filter(r -> {
                    for (String marker : wanted) {
                        if (marker != null && !r.getBodyAsString().contains(marker) && !decoded(r.getUrl()).contains(marker)) {
                            return false;
                        }
                    }
                    return true;
                })
                .sorted(java.util.Comparator.comparing(LoggedRequest::getLoggedDate))
                .toList();
    }

    static LoggedRequest only(WireMockServer server, String path, String... markers) {
        List<LoggedRequest> found = requests(server, path, markers);
        assertEquals(1, found.size(), "requests to " + path + " for " + java.util.Arrays.toString(markers) + ": "
                + found.size());
        return found.get(0);
    }

    static String decoded(String url) {
        return java.net.URLDecoder.decode(url, UTF_8);
    }

    static JsonNode json(LoggedRequest request) {
        try {
            return Json.MAPPER.readTree(request.getBody());
        } catch (java.io.IOException e) {
            throw new AssertionError("not JSON: " + request.getBodyAsString(), e);
        }
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    }

    static String random(int length) {
        return UUID.randomUUID().toString().replace("-", "").substring(0, length).toUpperCase();
    }

    static void assertNotEquals(Object unexpected, Object actual) {
        org.junit.jupiter.api.Assertions.assertNotEquals(unexpected, actual);
    }
}
