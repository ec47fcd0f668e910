package io.handoff.hub.sandbox;

import static io.handoff.hub.support.Receipts.status;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Receipts;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

/**
 * The README's walkthrough: with the sandbox on, a storefront opt-out reaches every simulated system, each holds the
 * customer as opted out, and the receipts are in the consent API.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
@QuarkusTestResource(value = SandboxPropagationTest.SandboxOn.class, restrictToAnnotatedClass = true)
class SandboxPropagationTest {

    /** The sandbox switched on, on a known port (the hub calls its own sandbox over HTTP). */
    public static class SandboxOn implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            int port = HubTestResource.freePort();
            return Map.of("hub.sandbox.enabled", "true", "quarkus.http.test-port", Integer.toString(port),
                    "hub.sandbox.base-url", "http://127.0.0.1:" + port + "/sandbox");
        }

        @Override
        public void stop() {
        }
    }

    @Test
    void aStorefrontOptOutReachesEverySandboxSystem() {
        String email = "sandbox-" + java.util.UUID.randomUUID().toString().substring(0, 8) + "@example.com";
        byte[] body = ("{\"customer_id\":706405506930370084,\"email_address\":\"" + email + "\",\"email_marketing_consent\":"
                + "{\"state\":\"unsubscribed\",\"opt_in_level\":\"single_opt_in\",\"consent_updated_at\":\"2026-11-20T09:30:00-05:00\"}}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update", Webhooks.newId(), body,
                HubTestResource.SHOPIFY_SECRET), body).then().statusCode(200);

        Receipts.awaitUntil(email, Duration.ofSeconds(20), status("delivered", "klaviyo", "salesforce", "hubspot", "loyalty")
                .and(status("skipped", "shopify")));

        RestAssured.get("/sandbox/klaviyo/_state").then().statusCode(200)
                .body("profiles.'" + email + "'.consent", equalTo("UNSUBSCRIBED"));
        RestAssured.get("/sandbox/salesforce/_state").then().statusCode(200)
                .body("contacts.'" + email + "'.HasOptedOutOfEmail", equalTo(true));
        RestAssured.get("/sandbox/hubspot/_state").then().statusCode(200)
                .body("subscriptions.'1001'.'" + email + "'", equalTo("UNSUBSCRIBED"));
        RestAssured.get("/sandbox/loyalty/_state").then().statusCode(200)
                .body("members.'" + email + "'.emailOptIn", equalTo(false));
    }

    @Test
    void theKnobsMakeASimulatedSystemFailAndRecover() {
        RestAssured.given().contentType("application/json").body("{\"failureRate\": 1.0}").put("/sandbox/loyalty/_control")
                .then().statusCode(200).body("failureRate", equalTo(1.0f));
        RestAssured.given().contentType("application/json").body("{}").post("/sandbox/loyalty/api/v1/consent-events")
                .then().statusCode(503);
        RestAssured.given().contentType("application/json").body("{\"failureRate\": 0}").put("/sandbox/loyalty/_control")
                .then().statusCode(200);
        RestAssured.given().contentType("application/json").body("{}").post("/sandbox/loyalty/api/v1/consent-events")
                .then().statusCode(401).body("error", equalTo("missing or wrong API key"));
    }

    /** The README's reconciliation walkthrough: seeded drift in the simulated Klaviyo is reported, then repaired. */
    @Test
    void reconciliationReportsSeededDriftAndRepairsIt() throws Exception {
        String run = java.util.UUID.randomUUID().toString().substring(0, 8);
        String cara = "cara-" + run + "@example.com";
        String dan = "dan-" + run + "@example.com";
        long id = 930_114_000_000L + Math.abs(run.hashCode() % 1_000_000);
        storefront(cara, id, "unsubscribed", "2026-11-22T18:05:00Z");
        storefront(dan, id + 1, "subscribed", "2026-11-22T18:06:00Z");
        Receipts.awaitUntil(dan, Duration.ofSeconds(20), status("delivered", "klaviyo", "salesforce", "hubspot",
                "loyalty"));
        Receipts.awaitUntil(cara, Duration.ofSeconds(20), status("delivered", "klaviyo", "salesforce", "hubspot",
                "loyalty"));
        RestAssured.given().contentType("application/json").body("{\"email\":\"" + cara + "\"}")
                .post("/sandbox/klaviyo/_subscribe").then().statusCode(204);
        RestAssured.given().contentType("application/json").body("{\"email\":\"" + dan + "\",\"reason\":\"HARD_BOUNCE\"}")
                .post("/sandbox/klaviyo/_suppress").then().statusCode(204);

        JsonNode report = reconcile();
        for (JsonNode system : report.path("systems")) {
            boolean klaviyo = "klaviyo".equals(system.path("system").asText());
            assertEquals("completed", system.path("status").asText(), system.toString());
            assertEquals(klaviyo ? 1 : 0, system.path("totals").path("wouldMail").asInt(), system.toString());
            assertEquals(klaviyo ? 1 : 0, system.path("totals").path("ledgerSubscribed").asInt(), system.toString());
        }
        RestAssured.given().auth().oauth2(HubTestResource.ADMIN_TOKEN)
                .post("/api/reconciliations/" + report.path("id").asText() + "/apply").then().statusCode(202)
                .body("deliveriesPlanned", equalTo(1)).body("suppressionsLearned", equalTo(1));

        Receipts.awaitUntil(dan, Duration.ofSeconds(30), receipts -> {
            Map<String, Object> salesforce = Receipts.latest(receipts, "salesforce");
            return "suppressed".equals(salesforce.get("state")) && "delivered".equals(salesforce.get("status"))
                    && status("delivered", "hubspot", "shopify", "loyalty").test(receipts);
        });
        RestAssured.get("/sandbox/klaviyo/_state").then().body("profiles.'" + cara + "'.consent",
                equalTo("UNSUBSCRIBED"));
        JsonNode again = reconcile();
        for (JsonNode system : again.path("systems")) {
            JsonNode totals = system.path("totals");
            assertEquals(0, totals.path("wouldMail").asInt() + totals.path("ledgerSubscribed").asInt()
                    + totals.path("ledgerUndecided").asInt(), system.toString());
        }
    }

    static void storefront(String email, long customerId, String state, String at) {
        byte[] body = ("{\"customer_id\":" + customerId + ",\"email_address\":\"" + email + "\","
                + "\"email_marketing_consent\":{\"state\":\"" + state + "\",\"opt_in_level\":\"single_opt_in\","
                + "\"consent_updated_at\":\"" + at + "\"}}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update", Webhooks.newId(), body,
                HubTestResource.SHOPIFY_SECRET), body).then().statusCode(200);
    }

    static JsonNode reconcile() throws Exception {
        String id = RestAssured.given().auth().oauth2(HubTestResource.ADMIN_TOKEN).contentType("application/json")
                .body("{}").post("/api/reconciliations").then().statusCode(202).extract().path("id");
        return org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> Json.MAPPER.readTree(RestAssured.given().auth().oauth2(HubTestResource.ADMIN_TOKEN)
                        .get("/api/reconciliations/" + id).asString()), r -> !"running".equals(r.path("status")
                                .asText()));
    }
}
