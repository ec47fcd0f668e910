package io.handoff.hub.sandbox;

import static io.handoff.hub.support.Receipts.status;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.handoff.hub.support.HubTestResource;
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
}
