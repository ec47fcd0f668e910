package io.handoff.hub.sandbox;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.handoff.hub.sandbox.SandboxApi.Answer;
import io.handoff.hub.sandbox.SandboxApi.Request;

/** The simulated vendors refuse what the real APIs refuse. */
class SandboxApisTest {

    static final Map<String, String> KLAVIYO = Map.of("Authorization", "Klaviyo-API-Key pk_x", "revision", "2026-07-15",
            "Content-Type", "application/vnd.api+json");

    @Test
    void klaviyoRefusesA2024StyleUnsubscribeWithoutSubscriptionsAndMissingHeaders() {
        KlaviyoSandbox klaviyo = new KlaviyoSandbox();
        String old = "{\"data\":{\"type\":\"profile-subscription-bulk-delete-job\",\"attributes\":{\"profiles\":"
                + "{\"data\":[{\"type\":\"profile\",\"attributes\":{\"email\":\"a@example.com\"}}]}}}}";
        Answer refused = klaviyo.handle(post("/api/profile-subscription-bulk-delete-jobs", KLAVIYO, old));
        assertEquals(400, refused.status());
        assertTrue(refused.body().contains("subscriptions"), refused.body());
        assertEquals(401, klaviyo.handle(post("/api/profile-subscription-bulk-delete-jobs",
                Map.of("revision", "2026-07-15", "Content-Type", "application/vnd.api+json"), old)).status());
        assertEquals(400, klaviyo.handle(post("/api/profile-subscription-bulk-delete-jobs",
                Map.of("Authorization", "Klaviyo-API-Key pk_x", "Content-Type", "application/vnd.api+json"), old)).status());
        assertEquals(415, klaviyo.handle(post("/api/profile-subscription-bulk-delete-jobs",
                Map.of("Authorization", "Klaviyo-API-Key pk_x", "revision", "2026-07-15", "Content-Type", "application/json"),
                old)).status());
    }

    @Test
    void klaviyoUnsubscribesANonMemberGloballyLikeTheRealApi() {
        KlaviyoSandbox klaviyo = new KlaviyoSandbox();
        String withList = "{\"data\":{\"type\":\"profile-subscription-bulk-delete-job\",\"attributes\":{\"profiles\":"
                + "{\"data\":[{\"type\":\"profile\",\"attributes\":{\"email\":\"a@example.com\",\"subscriptions\":"
                + "{\"email\":{\"marketing\":{\"consent\":\"UNSUBSCRIBED\"}}}}}]}},"
                + "\"relationships\":{\"list\":{\"data\":{\"type\":\"list\",\"id\":\"L1\"}}}}}";
        assertEquals(202, klaviyo.handle(post("/api/profile-subscription-bulk-delete-jobs", KLAVIYO, withList)).status());
        assertEquals("UNSUBSCRIBED", klaviyo.state().at("/profiles/a@example.com/consent").asText());
    }

    @Test
    void salesforceRefusesUnknownFieldsWrongTypesAndUnknownContacts() {
        SalesforceSandbox sf = new SalesforceSandbox();
        Map<String, String> auth = Map.of("Authorization", "Bearer t", "Content-Type", "application/json");
        Answer found = sf.handle(new Request("GET", "/services/data/v64.0/query",
                Map.of("q", "SELECT Id FROM Contact WHERE Email = 'a@example.com'"), auth, null));
        assertEquals(200, found.status());
        String id = found.body().replaceAll(".*\"Id\":\"([^\"]+)\".*", "$1");
        String path = "/services/data/v64.0/sobjects/Contact/" + id;
        assertTrue(sf.handle(patch(path, auth, "{\"Unsubscribed__c\":true}")).body().contains("INVALID_FIELD"));
        assertEquals(400, sf.handle(patch(path, auth, "{\"HasOptedOutOfEmail\":\"yes\"}")).status());
        assertEquals(404, sf.handle(patch("/services/data/v64.0/sobjects/Contact/003000000000000AAA", auth,
                "{\"HasOptedOutOfEmail\":true}")).status());
        assertEquals(401, sf.handle(patch(path, Map.of("Content-Type", "application/json"), "{\"HasOptedOutOfEmail\":true}")).status());
        assertEquals(400, sf.handle(new Request("GET", "/services/data/v64.0/query", Map.of("q", "DELETE FROM Contact"), auth,
                null)).status());
        assertEquals(204, sf.handle(patch(path, auth, "{\"HasOptedOutOfEmail\":true}")).status());
        assertTrue(sf.state().at("/contacts/a@example.com/HasOptedOutOfEmail").asBoolean());
    }

    @Test
    void hubspotRefusesAStringSubscriptionIdAndListsAnUnknownSubscriptionAsAnError() {
        HubSpotSandbox hubspot = new HubSpotSandbox();
        Map<String, String> auth = Map.of("Authorization", "Bearer t", "Content-Type", "application/json");
        assertEquals(400, hubspot.handle(post("/communication-preferences/v4/statuses/batch/write", auth,
                "{\"inputs\":[{\"subscriberIdString\":\"a@example.com\",\"channel\":\"EMAIL\",\"statusState\":\"UNSUBSCRIBED\","
                        + "\"subscriptionId\":\"1001\"}]}")).status());
        Answer partly = hubspot.handle(post("/communication-preferences/v4/statuses/batch/write", auth,
                "{\"inputs\":[{\"subscriberIdString\":\"a@example.com\",\"channel\":\"EMAIL\",\"statusState\":\"UNSUBSCRIBED\","
                        + "\"subscriptionId\":1001},{\"subscriberIdString\":\"b@example.com\",\"channel\":\"EMAIL\","
                        + "\"statusState\":\"UNSUBSCRIBED\",\"subscriptionId\":42}]}"));
        assertEquals(200, partly.status());
        assertTrue(partly.body().contains("\"numErrors\":1"), partly.body());
    }

    @Test
    void shopifyRefusesAStateTheMutationCannotSet() {
        ShopifySandbox shopify = new ShopifySandbox();
        Map<String, String> auth = Map.of("X-Shopify-Access-Token", "shpat", "Content-Type", "application/json");
        Answer refused = shopify.handle(post("/admin/api/2026-07/graphql.json", auth,
                "{\"query\":\"mutation m($input: CustomerEmailMarketingConsentUpdateInput!) { customerEmailMarketingConsentUpdate(input: $input) { userErrors { message } } }\","
                        + "\"variables\":{\"input\":{\"customerId\":\"gid://shopify/Customer/1\",\"emailMarketingConsent\":{\"marketingState\":\"NOT_SUBSCRIBED\"}}}}"));
        assertTrue(refused.body().contains("\"errors\""), refused.body());
        assertEquals(401, shopify.handle(post("/admin/api/2026-07/graphql.json", Map.of(), "{}")).status());
    }

    @Test
    void loyaltyValidatesItsContractAndDropsARepeatedIdempotencyKey() {
        LoyaltySandbox loyalty = new LoyaltySandbox();
        Map<String, String> headers = Map.of("X-Api-Key", "k", "Content-Type", "application/json", "Idempotency-Key", "c1");
        String optOut = "{\"memberId\":\"M1\",\"email\":\"a@example.com\",\"channel\":\"email\",\"optIn\":false,"
                + "\"occurredAt\":\"2026-11-20T14:30:00Z\"}";
        assertEquals(202, loyalty.handle(post("/api/v1/consent-events", headers, optOut)).status());
        String optIn = optOut.replace("false", "true");
        assertEquals(202, loyalty.handle(post("/api/v1/consent-events", headers, optIn)).status());
        assertTrue(loyalty.state().at("/members/M1/emailOptIn").isBoolean(), "the first event was applied");
        assertEquals(false, loyalty.state().at("/members/M1/emailOptIn").asBoolean(), "the repeat was not applied");
        assertEquals(400, loyalty.handle(post("/api/v1/consent-events", Map.of("X-Api-Key", "k"),
                "{\"memberId\":\"M1\",\"email\":\"a@example.com\",\"channel\":\"fax\",\"optIn\":false,\"occurredAt\":\"now\"}")).status());
    }

    static Request post(String path, Map<String, String> headers, String body) {
        return new Request("POST", path, Map.of(), headers, body.getBytes(UTF_8));
    }

    static Request patch(String path, Map<String, String> headers, String body) {
        return new Request("PATCH", path, Map.of(), headers, body.getBytes(UTF_8));
    }
}
