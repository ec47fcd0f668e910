package io.handoff.hub.feeds;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static io.handoff.hub.support.HubTestResource.ADMIN_TOKEN;
import static io.handoff.hub.support.HubTestResource.CHECKOUT_SECRET;
import static io.handoff.hub.support.HubTestResource.SHOPIFY_SECRET;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;

import io.handoff.hub.kafka.HubTopics;
import io.handoff.hub.support.Fixtures;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.KafkaProbe;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.response.Response;

/**
 * The seed's story end to end: a customer waitlisted for a SKU buys it on Amazon (the SP-API poller, against a
 * WireMock Amazon) and leaves the back-in-stock segment; the Amazon feed stops (no orders, then errors): the detector
 * alerts once and the segment is HELD naming the Amazon feed; the feed recovers: the alert clears and the segment is
 * READY again. A stale inventory event goes to the stale topic; an opted-out customer never appears; the gap matrix
 * reports each feed's status and lag.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
@QuarkusTestResource(value = FeedsAndSegmentsTest.Amazon.class, restrictToAnnotatedClass = true)
class FeedsAndSegmentsTest {

    static final String ERP_SECRET = "whsec_ZXJwLWludmVudG9yeS1zZWNyZXQ=";
    static final String SKU = "SKU-BIS-" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
    static final Duration SOON = Duration.ofSeconds(30);

    /** A WireMock SP-API and ops-alert receiver; the hub polls it every second and checks its feeds every second. */
    public static class Amazon implements QuarkusTestResourceLifecycleManager {
        static WireMockServer server;

        @Override
        public Map<String, String> start() {
            server = new WireMockServer(WireMockConfiguration.options().dynamicPort());
            server.start();
            noOrders();
            server.stubFor(post(urlPathEqualTo("/ops/alerts")).willReturn(aResponse().withStatus(204)));
            Map<String, String> config = new HashMap<>();
            config.put("hub.systems.amazon.base-url", server.baseUrl());
            config.put("hub.systems.amazon.access-token", "Atza|test-token");
            config.put("hub.systems.amazon.marketplace-ids", "ATVPDKIKX0DER");
            config.put("hub.systems.amazon.poll-interval", "1s");
            config.put("hub.systems.amazon.poll-delay", "PT0S");
            config.put("hub.systems.amazon.page-attempts", "2");
            config.put("hub.systems.amazon.page-initial-backoff-ms", "100");
            // A poll a second needs more than SP-API's getOrders quota (burst 20, one more a minute).
            config.put("hub.systems.amazon.rate-limit.get-orders.burst", "1000");
            config.put("hub.systems.amazon.rate-limit.get-orders.rate", "100");
            config.put("hub.systems.erp.webhook-secret", ERP_SECRET);
            config.put("hub.feeds.check-interval", "1s");
            // Ten seconds without new Amazon orders is silent here (30 minutes in the shipped registry).
            config.put("hub.feeds.amazon-orders.cadence", "PT10S");
            // Nothing is sent for promotion eligibility here: its first record is due 20 s after start, then silent.
            config.put("hub.feeds.promotion-eligibility.cadence", "PT15S");
            config.put("hub.feeds.promotion-eligibility.tolerance", "PT5S");
            config.put("hub.alerts.webhook-url", server.baseUrl() + "/ops/alerts");
            config.put("hub.alerts.webhook-secret", "whsec_b3BzLWFsZXJ0cy10ZXN0LXNlY3JldA==");
            config.put("hub.alerts.webhook-backoff-ms", "50");
            return config;
        }

        @Override
        public void stop() {
            server.stop();
        }

        /** Amazon answers every poll with no orders. */
        static void noOrders() {
            server.stubFor(get(urlPathEqualTo("/orders/v0/orders")).atPriority(2).willReturn(aResponse().withStatus(200)
                    .withHeader("Content-Type", "application/json").withBody("{\"payload\":{\"Orders\":[]}}")));
        }
    }

    @Inject
    HubTopics topics;

    @Inject
    io.handoff.hub.identity.IdentityResolver identity;

    @Inject
    @jakarta.inject.Named("hubDataSource")
    javax.sql.DataSource dataSource;

    @Test
    void theSeedsStoryFromWaitlistToHeldSegmentAndBack() throws Exception {
        String buyer = unique("amazon-buyer");
        String waiting = unique("still-waiting");
        String optedOut = unique("opted-out");
        // Sent two minutes after the sign-up: late, but within the waitlist feed's five-minute tolerance.
        Instant joined = Instant.now().minus(2, ChronoUnit.MINUTES);
        for (String email : List.of(buyer, waiting, optedOut)) {
            checkout("consent.changed", Instant.now().minus(1, ChronoUnit.HOURS), Json.MAPPER.createObjectNode()
                    .put("channel", "email").put("purpose", "marketing")
                    .put("state", email.equals(optedOut) ? "unsubscribed" : "subscribed"), email);
            checkout("waitlist.joined", joined, Json.MAPPER.createObjectNode().put("sku", SKU), email);
        }
        // The ERP's inventory run: the SKU is back in stock, and its heartbeat.
        erp("inventory.changed", Instant.now(), Json.MAPPER.createObjectNode().put("sku", SKU).put("locationId",
                "WH-1").put("available", 12));
        erp("feed.synced", Instant.now(), Json.MAPPER.createObjectNode().put("feed", "erp-inventory").put("records", 1)
                .put("watermark", Instant.now().toString()).put("durationMs", 420));
        shopifyOrder();
        // Amazon: the buyer bought the SKU after joining the waitlist.
        amazonOrder("113-" + (System.nanoTime() % 10_000_000), buyer, SKU);

        JsonNode ready = await().atMost(SOON).until(() -> evaluate("back-in-stock"),
                r -> r.path("status").asText().equals("READY") && members(r).contains(waiting));
        List<String> members = members(ready);
        assertFalse(members.contains(buyer), "bought it on Amazon since joining: " + members);
        assertFalse(members.contains(optedOut), "opted out: never in a segment");
        assertTrue(ready.path("feeds").size() == 4, ready.toString());

        // The Amazon feed stops: runs bring nothing (records were expected), then Amazon errors.
        int alertsBefore = alerts("feed.silent").size();
        Amazon.noOrders();
        JsonNode held = await().atMost(SOON).until(() -> evaluate("back-in-stock"),
                r -> r.path("status").asText().equals("HELD"));
        assertEquals(1, held.path("staleFeeds").size(), held.toString());
        JsonNode stale = held.path("staleFeeds").get(0);
        assertEquals("amazon-orders", stale.path("feed").asText());
        assertEquals("silent", stale.path("status").asText());
        assertEquals("PT1H", stale.path("tolerance").asText());
        assertTrue(stale.path("reasons").toString().contains("no records for"), stale.toString());
        await().atMost(SOON).until(() -> alerts("feed.silent").size() == alertsBefore + 1);
        Amazon.server.stubFor(get(urlPathEqualTo("/orders/v0/orders")).atPriority(1).willReturn(aResponse()
                .withStatus(500).withHeader("Content-Type", "application/json")
                .withBody("{\"errors\":[{\"code\":\"InternalFailure\",\"message\":\"We encountered an internal error.\"}]}")));
        await().atMost(SOON).until(() -> feed("amazon-orders").path("lastFailure").isTextual());
        // Still silent, and no second alert for the same state (the detector checks every second).
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6))
                .until(() -> alerts("feed.silent").size() == alertsBefore + 1);
        assertEquals(409, evaluateResponse("back-in-stock").statusCode());

        // Amazon recovers.
        int recoveredBefore = alerts("feed.recovered").size();
        Amazon.server.resetMappings();
        Amazon.server.stubFor(post(urlPathEqualTo("/ops/alerts")).willReturn(aResponse().withStatus(204)));
        amazonOrder("114-" + (System.nanoTime() % 10_000_000), unique("someone-else"), "SKU-OTHER");
        await().atMost(SOON).until(() -> alerts("feed.recovered").size() == recoveredBefore + 1);
        JsonNode again = await().atMost(SOON).until(() -> evaluate("back-in-stock"),
                r -> r.path("status").asText().equals("READY"));
        assertTrue(members(again).contains(waiting));
        assertFalse(members(again).contains(buyer));

        // The gap matrix: every feed with its status and lag; the ERP's sync with its records and watermark.
        JsonNode erpRow = feed("erp-inventory");
        assertEquals("fresh", erpRow.path("status").asText());
        assertEquals(1, erpRow.path("lastSyncRecords").asInt());
        assertEquals("batch", erpRow.path("mode").asText());
        JsonNode amazonRow = feed("amazon-orders");
        assertEquals("fresh", amazonRow.path("status").asText());
        assertTrue(amazonRow.path("ageSeconds").asLong() < 30, amazonRow.toString());
        JsonNode waitlist = feed("storefront-waitlist");
        assertTrue(waitlist.path("lagP95Seconds").asDouble() >= 110, "joined 2 minutes before it was sent: "
                + waitlist);
        assertEquals("fresh", waitlist.path("status").asText());
        String csv = RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("format", "csv").get("/api/feeds")
                .then().statusCode(200).contentType("text/csv").extract().asString();
        assertTrue(csv.startsWith("feed,system,mode,status,"), csv);
        assertTrue(csv.contains("\r\namazon-orders,amazon,poll,fresh,"), csv);
    }

    @Test
    void aFeedThatDeliveredNothingIsPendingUntilItsFirstRecordIsDueThenSilentWithOneAlert() {
        // A fresh install (this test's database is new): loyalty tiers are due a day and a day after start, so the
        // detector, checking every second, says pending and raises nothing.
        JsonNode tiers = feed("loyalty-tiers");
        assertEquals("pending", tiers.path("status").asText(), tiers.toString());
        assertTrue(tiers.path("reasons").get(0).asText().startsWith("nothing received yet; the first record is due by"),
                tiers.toString());
        // Promotion eligibility (cadence 15 s + tolerance 5 s here) turns silent once that is past: one alert, not
        // before it was due.
        Instant configured = Instant.parse(feed("promotion-eligibility").path("configuredAt").asText());
        List<JsonNode> silent = await().atMost(Duration.ofSeconds(60))
                .until(() -> alerts("feed.silent", "promotion-eligibility"), a -> !a.isEmpty());
        Instant raised = Instant.parse(silent.get(0).path("timestamp").asText());
        assertFalse(raised.isBefore(configured.plusSeconds(20)), "raised " + raised + ", configured " + configured);
        assertEquals("silent", feed("promotion-eligibility").path("status").asText());
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4))
                .until(() -> alerts("feed.silent", "promotion-eligibility").size() == 1);
        assertEquals(List.of(), alerts("feed.silent", "loyalty-tiers"));
        assertEquals("pending", feed("loyalty-tiers").path("status").asText());
    }

    @Test
    void aStaleInventoryEventGoesToTheStaleTopicInsteadOfPassingAsCurrent() throws Exception {
        String sku = "SKU-STALE-" + UUID.randomUUID().toString().substring(0, 6);
        try (KafkaProbe probe = new KafkaProbe(List.of(topics.stale()))) {
            var mark = probe.mark();
            erp("inventory.changed", Instant.now().minus(3, ChronoUnit.HOURS), Json.MAPPER.createObjectNode()
                    .put("sku", sku).put("available", 40));
            List<ConsumerRecord<String, byte[]>> records = await().atMost(SOON).until(() -> probe.since(mark),
                    l -> !l.isEmpty());
            ConsumerRecord<String, byte[]> record = records.get(0);
            assertEquals("sku:" + sku, record.key());
            assertEquals("erp-inventory", header(record, "handoff_feed"));
            assertEquals("true", header(record, "handoff_stale"));
            assertTrue(header(record, "handoff_stale_reason").contains("3h old at receipt, tolerance 60m"),
                    header(record, "handoff_stale_reason"));
            assertTrue(new String(record.value(), UTF_8).contains(sku), "the event itself, for replay");
        }
        JsonNode erpRow = feed("erp-inventory");
        assertTrue(erpRow.path("staleEvents").asLong() >= 1);
    }

    @Test
    void segmentsAnswerUnknownIdsAndBadParametersAndNeedTheToken() {
        RestAssured.given().post("/api/segments/back-in-stock/evaluate").then().statusCode(401);
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).post("/api/segments/nope/evaluate").then().statusCode(404);
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).contentType("application/json").body("{\"parameters\": 3}")
                .post("/api/segments/back-in-stock/evaluate").then().statusCode(400);
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).contentType("application/json")
                .body("{\"parameters\": {\"SKU\": \"SKU-1\"}}").post("/api/segments/back-in-stock/evaluate").then()
                .statusCode(400).body("error.message", org.hamcrest.Matchers.containsString("unknown parameter SKU"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).contentType("application/json")
                .body("{\"parameters\": {\"sku\": \" \"}}").post("/api/segments/back-in-stock/evaluate").then()
                .statusCode(400);
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).contentType("application/json").body("{not json")
                .post("/api/segments/back-in-stock/evaluate").then().statusCode(400);
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("format", "xml").get("/api/feeds").then()
                .statusCode(400);
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/segments").then().statusCode(200);
    }

    @Test
    void aMergedCustomersWaitlistFollowsTheSurvivor() {
        String survivor = unique("survivor");
        String merged = unique("merged");
        String sku = "SKU-MERGE-" + UUID.randomUUID().toString().substring(0, 6);
        checkout("waitlist.joined", Instant.now(), Json.MAPPER.createObjectNode().put("sku", sku), merged);
        checkout("consent.changed", Instant.now(), Json.MAPPER.createObjectNode().put("channel", "email")
                .put("purpose", "marketing").put("state", "subscribed"), survivor);
        await().atMost(SOON).until(() -> waitlisted(sku).size() == 1 && identity.byEmail(survivor).isPresent());
        String mergedId = identity.byEmail(merged).orElseThrow();
        assertEquals(List.of(mergedId), waitlisted(sku));
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.set("survivor", Json.MAPPER.createObjectNode().put("email", survivor));
        data.putArray("merged").addObject().put("email", merged);
        send("checkout", CHECKOUT_SECRET, "customer.merged", Instant.now(), data);
        String survivorId = identity.byEmail(survivor).orElseThrow();
        await().atMost(SOON).until(() -> waitlisted(sku).equals(List.of(survivorId)));
    }

    List<String> waitlisted(String sku) {
        return new org.springframework.jdbc.core.JdbcTemplate(dataSource).queryForList(
                "SELECT hub_id FROM feed_waitlist WHERE sku = ?", String.class, sku);
    }

    // --- helpers ---------------------------------------------------------------------------------------------------

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    }

    static void checkout(String type, Instant time, ObjectNode data, String email) {
        data.set("customer", Json.MAPPER.createObjectNode().put("email", email));
        send("checkout", CHECKOUT_SECRET, type, time, data);
    }

    static void erp(String type, Instant time, ObjectNode data) {
        send("erp", ERP_SECRET, type, time, data);
    }

    static void send(String system, String secret, String type, Instant time, ObjectNode data) {
        ObjectNode payload = Json.MAPPER.createObjectNode().put("type", type).put("timestamp", time.toString());
        payload.set("data", data);
        Webhooks.postSigned(system, secret, Webhooks.newId(), payload.toString().getBytes(UTF_8)).then()
                .statusCode(200);
    }

    /** A Shopify orders/create of now (the published sample with today's times), so the Shopify feed is fresh. */
    static void shopifyOrder() {
        byte[] body = new String(Fixtures.shopifyPayload("orders-create.json"), UTF_8)
                .replace("2021-12-31T19:00:00-05:00", Instant.now().toString()).getBytes(UTF_8);
        Webhooks.postShopify(Webhooks.shopifyHeaders("orders/create", UUID.randomUUID().toString(), body,
                SHOPIFY_SECRET), body).then().statusCode(200);
    }

    /**
     * Amazon answers every poll with this order, updated just now (a live channel: each poll brings news of it, so the
     * feed keeps bringing records).
     */
    static void amazonOrder(String orderId, String email, String sku) {
        Amazon.server.stubFor(get(urlPathEqualTo("/orders/v0/orders")).atPriority(2).willReturn(aResponse()
                .withStatus(200).withHeader("Content-Type", "application/json").withTransformers("response-template")
                .withBody("{\"payload\":{\"Orders\":[{"
                        + "\"AmazonOrderId\":\"" + orderId + "\",\"PurchaseDate\":\"" + Instant.now() + "\","
                        + "\"LastUpdateDate\":\"{{now format=\"yyyy-MM-dd'T'HH:mm:ss.SSSXXX\"}}\",\"OrderStatus\":\"Unshipped\","
                        + "\"OrderTotal\":{\"CurrencyCode\":\"USD\",\"Amount\":\"49.00\"},"
                        + "\"BuyerInfo\":{\"BuyerEmail\":\"" + email + "\"}}]}}")));
        Amazon.server.stubFor(get(urlPathEqualTo("/orders/v0/orders/" + orderId + "/orderItems")).atPriority(2)
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"payload\":{\"AmazonOrderId\":\"" + orderId + "\",\"OrderItems\":[{\"ASIN\":"
                                + "\"B00TEST\",\"SellerSKU\":\"" + sku + "\",\"OrderItemId\":\"1\",\"QuantityOrdered\":1,"
                                + "\"Title\":\"Item\"}]}}")));
    }

    static JsonNode evaluate(String segment) {
        return json(evaluateResponse(segment));
    }

    static Response evaluateResponse(String segment) {
        return RestAssured.given().auth().oauth2(ADMIN_TOKEN).post("/api/segments/" + segment + "/evaluate");
    }

    static List<String> members(JsonNode result) {
        List<String> emails = new ArrayList<>();
        result.path("members").forEach(m -> emails.add(m.path("email").asText()));
        return emails;
    }

    static JsonNode feed(String id) {
        JsonNode matrix = json(RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/feeds"));
        for (JsonNode row : matrix.path("feeds")) {
            if (row.path("feed").asText().equals(id)) {
                return row;
            }
        }
        throw new AssertionError("no feed " + id + " in " + matrix);
    }

    /** The ops alerts of a type about the Amazon feed the WireMock receiver got. */
    static List<JsonNode> alerts(String type) {
        return alerts(type, "amazon-orders");
    }

    /** The ops alerts of a type about a feed the WireMock receiver got. */
    static List<JsonNode> alerts(String type, String feed) {
        List<JsonNode> found = new ArrayList<>();
        Amazon.server.findAll(postRequestedFor(urlPathEqualTo("/ops/alerts"))).forEach(r -> {
            JsonNode body = Json.MAPPER.valueToTree(Map.of());
            try {
                body = Json.MAPPER.readTree(r.getBodyAsString());
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
            if (type.equals(body.path("type").asText())
                    && feed.equals(body.path("data").path("feed").asText())) {
                found.add(body);
            }
        });
        return found;
    }

    static JsonNode json(Response response) {
        try {
            return Json.MAPPER.readTree(response.asString());
        } catch (java.io.IOException e) {
            throw new AssertionError(response.asString(), e);
        }
    }

    static String header(ConsumerRecord<String, byte[]> record, String name) {
        var h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), UTF_8);
    }
}
