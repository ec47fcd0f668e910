package io.handoff.hub.sandbox;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.sandbox.SandboxApi.Answer;
import io.handoff.hub.sandbox.SandboxApi.Request;
import io.handoff.hub.support.Json;

/**
 * The simulated vendors refuse what the real APIs refuse, list their suppressed contacts page by page, and keep the
 * addresses the hub writes back.
 */
class SandboxApisTest {

    static final Map<String, String> KLAVIYO = Map.of("Authorization", "Klaviyo-API-Key pk_x", "revision", "2026-07-15",
            "Content-Type", "application/vnd.api+json");
    static final Instant AT = Instant.parse("2026-11-23T10:00:00Z");
    static final String HARD_BOUNCE = "equals(subscriptions.email.marketing.suppression.reason,\"HARD_BOUNCE\")";

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

    @Test
    void klaviyoPagesSuppressedProfilesByReasonFollowingAbsoluteNextLinks() {
        KlaviyoSandbox klaviyo = new KlaviyoSandbox();
        for (String email : List.of("e@example.com", "a@example.com", "d@example.com", "b@example.com", "c@example.com")) {
            klaviyo.suppress(email, "HARD_BOUNCE", AT);
        }
        klaviyo.suppress("h@example.com", "SPAM_COMPLAINT", AT);
        // The hub's propagation: an unsubscribe, a suppression (one of a profile with a reason already), a subscribe.
        assertEquals(202, klaviyo.handle(post("/api/profile-subscription-bulk-delete-jobs", KLAVIYO,
                klaviyoJob("profile-subscription-bulk-delete-job", "u@example.com", "UNSUBSCRIBED"))).status());
        assertEquals(202, klaviyo.handle(post("/api/profile-suppression-bulk-create-jobs", KLAVIYO,
                klaviyoJob("profile-suppression-bulk-create-job", "s@example.com", null))).status());
        assertEquals(202, klaviyo.handle(post("/api/profile-suppression-bulk-create-jobs", KLAVIYO,
                klaviyoJob("profile-suppression-bulk-create-job", "h@example.com", null))).status());
        assertEquals(202, klaviyo.handle(post("/api/profile-subscription-bulk-create-jobs", KLAVIYO,
                klaviyoJob("profile-subscription-bulk-create-job", "m@example.com", "SUBSCRIBED"))).status());

        Map<String, String> headers = new HashMap<>(KLAVIYO);
        headers.put("Host", "hub:8080");
        Request request = new Request("GET", "/api/profiles", Map.of("additional-fields[profile]", "subscriptions",
                "page[size]", "2", "filter", HARD_BOUNCE), headers, null);
        List<String> emails = new ArrayList<>();
        List<String> nexts = new ArrayList<>();
        while (request != null) {
            Answer answer = klaviyo.handle(request);
            assertEquals(200, answer.status(), answer.body());
            assertEquals("application/vnd.api+json", answer.contentType());
            JsonNode page = json(answer);
            assertTrue(page.at("/links/self").asText().startsWith("http://hub:8080/sandbox/klaviyo/api/profiles?"));
            page.path("data").forEach(p -> emails.add(p.at("/attributes/email").asText()));
            JsonNode next = page.at("/links/next");
            request = next.isNull() ? null : klaviyoGet(next.asText(), headers);
            if (request != null) {
                nexts.add(next.asText());
            }
        }
        assertEquals(List.of("a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"), emails);
        assertEquals(2, nexts.size());
        assertTrue(nexts.get(0).contains("page%5Bsize%5D=2") && nexts.get(0).contains("page%5Bcursor%5D=")
                && nexts.get(0).contains("additional-fields%5Bprofile%5D=subscriptions"), nexts.get(0));
        // The same cursor gives the same page.
        assertEquals(json(klaviyo.handle(klaviyoGet(nexts.get(1), headers))).path("data"),
                json(klaviyo.handle(klaviyoGet(nexts.get(1), headers))).path("data"));

        JsonNode first = json(klaviyo.handle(new Request("GET", "/api/profiles", Map.of("additional-fields[profile]",
                "subscriptions", "filter", HARD_BOUNCE), headers, null)));
        JsonNode marketing = first.at("/data/0/attributes/subscriptions/email/marketing");
        assertFalse(marketing.path("can_receive_email_marketing").asBoolean(true));
        assertEquals("HARD_BOUNCE", marketing.at("/suppression/0/reason").asText());
        assertEquals("2026-11-23T10:00:00+00:00", marketing.at("/suppression/0/timestamp").asText());
        assertTrue(marketing.path("list_suppressions").isArray());
        assertEquals(KlaviyoSandbox.id("a@example.com"), first.at("/data/0/id").asText());
        assertTrue(first.at("/links/next").isNull());
        assertTrue(first.at("/links/prev").isNull());

        assertEquals(List.of("u@example.com"), klaviyoReason(klaviyo, headers, "UNSUBSCRIBE"));
        assertEquals(List.of("s@example.com"), klaviyoReason(klaviyo, headers, "USER_SUPPRESSED"));
        assertEquals(List.of("h@example.com"), klaviyoReason(klaviyo, headers, "SPAM_COMPLAINT"));
        assertEquals(List.of(), klaviyoReason(klaviyo, headers, "INVALID_EMAIL"));
    }

    @Test
    void klaviyoRefusesABadPageSizeFilterOrCursor() {
        KlaviyoSandbox klaviyo = new KlaviyoSandbox();
        Answer tooBig = klaviyo.handle(new Request("GET", "/api/profiles", Map.of("page[size]", "101", "filter",
                HARD_BOUNCE), KLAVIYO, null));
        assertEquals(400, tooBig.status());
        assertEquals(400, json(tooBig).at("/errors/0/status").asInt());
        assertEquals(200, klaviyo.handle(new Request("GET", "/api/profiles", Map.of("page[size]", "100"), KLAVIYO, null))
                .status());
        for (String filter : List.of("equals(subscriptions.email.marketing.suppression.reason,\"BOUNCED\")",
                "equals(subscriptions.email.marketing.consent,\"UNSUBSCRIBED\")")) {
            assertEquals(400, klaviyo.handle(new Request("GET", "/api/profiles", Map.of("filter", filter), KLAVIYO, null))
                    .status(), filter);
        }
        assertEquals(400, klaviyo.handle(new Request("GET", "/api/profiles", Map.of("page[cursor]", "!!"), KLAVIYO, null))
                .status());
        assertEquals(401, klaviyo.handle(new Request("GET", "/api/profiles", Map.of(), Map.of("revision", "2026-07-15"),
                null)).status());
        assertEquals(400, klaviyo.handle(new Request("GET", "/api/profiles", Map.of(),
                Map.of("Authorization", "Klaviyo-API-Key pk_x"), null)).status());
    }

    /** The hub's batched lookup: every email's Contact, with its Email, the same Contact whatever the case. */
    @Test
    void salesforceFindsTheContactsOfSeveralEmailsInOneQuery() {
        SalesforceSandbox sf = new SalesforceSandbox();
        Map<String, String> auth = Map.of("Authorization", "Bearer t", "Content-Type", "application/json");
        String one = json(sf.handle(get("/services/data/v64.0/query", auth,
                Map.of("q", "SELECT Id FROM Contact WHERE Email = 'ann@example.com'")))).at("/records/0/Id").asText();
        Answer answer = sf.handle(get("/services/data/v64.0/query", auth, Map.of("q", "SELECT Id, Email FROM Contact"
                + " WHERE Email IN ('Ann@example.com', 'o\\'brien@example.com','bo@example.com') LIMIT 60")));
        assertEquals(200, answer.status(), answer.body());
        JsonNode page = json(answer);
        assertEquals(3, page.path("totalSize").asInt());
        assertEquals(List.of("ann@example.com", "o'brien@example.com", "bo@example.com"),
                page.path("records").findValuesAsText("Email"));
        assertEquals(one, page.at("/records/0/Id").asText(), "the Contact the single lookup found");
        assertEquals(400, sf.handle(get("/services/data/v64.0/query", auth, Map.of("q",
                "SELECT Id, Email FROM Contact WHERE Email IN ()"))).status());
    }

    @Test
    void salesforceServesOptedOutContactsInBatchesOf2000() {
        SalesforceSandbox sf = new SalesforceSandbox();
        Map<String, String> auth = Map.of("Authorization", "Bearer t", "Content-Type", "application/json");
        for (int i = 0; i < 4100; i++) {
            sf.suppress("c" + i + "@example.com", "bounced", AT);
        }
        sf.subscribe("c0@example.com", AT);
        // The hub's propagation opts one out: 4099 + 1.
        Answer found = sf.handle(get("/services/data/v64.0/query", auth,
                Map.of("q", "SELECT Id FROM Contact WHERE Email = 'p@example.com'")));
        String id = json(found).at("/records/0/Id").asText();
        assertEquals(204, sf.handle(patch("/services/data/v64.0/sobjects/Contact/" + id, auth,
                "{\"HasOptedOutOfEmail\":true}")).status());

        Answer answer = sf.handle(get("/services/data/v64.0/query", auth, Map.of("q",
                "select  id, email ,HasOptedOutOfEmail,  LastModifiedDate from Contact where HasOptedOutOfEmail = TRUE")));
        List<Integer> sizes = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        Set<String> emails = new HashSet<>();
        while (true) {
            assertEquals(200, answer.status(), answer.body());
            JsonNode page = json(answer);
            assertEquals(4100, page.path("totalSize").asInt());
            sizes.add(page.path("records").size());
            page.path("records").forEach(r -> {
                ids.add(r.path("Id").asText());
                emails.add(r.path("Email").asText());
            });
            if (page.path("done").asBoolean()) {
                assertTrue(page.path("nextRecordsUrl").isMissingNode());
                break;
            }
            assertTrue(page.path("nextRecordsUrl").asText().startsWith("/services/data/v64.0/query/01gSBX-"));
            answer = sf.handle(get(page.path("nextRecordsUrl").asText(), auth, Map.of()));
        }
        assertEquals(List.of(2000, 2000, 100), sizes);
        assertEquals(ids.stream().sorted().toList(), ids);
        assertEquals(4100, new HashSet<>(ids).size());
        assertTrue(emails.contains("p@example.com"));
        assertFalse(emails.contains("c0@example.com"));
        assertEquals(json(sf.handle(get("/services/data/v64.0/query/01gSBX-2000", auth, Map.of()))).path("records"),
                json(sf.handle(get("/services/data/v64.0/query/01gSBX-2000", auth, Map.of()))).path("records"));

        SalesforceSandbox one = new SalesforceSandbox();
        one.suppress("a@example.com", null, AT);
        JsonNode page = json(one.handle(get("/services/data/v64.0/query", auth,
                Map.of("q", SalesforceSandbox.OPTED_OUT_SOQL.replace(' ', '+')))));
        assertTrue(page.path("done").asBoolean());
        JsonNode record = page.at("/records/0");
        assertEquals("Contact", record.at("/attributes/type").asText());
        assertEquals("/services/data/v64.0/sobjects/Contact/" + SalesforceSandbox.id("a@example.com"),
                record.at("/attributes/url").asText());
        assertEquals("a@example.com", record.path("Email").asText());
        assertTrue(record.path("HasOptedOutOfEmail").asBoolean());
        assertEquals("2026-11-23T10:00:00.000+0000", record.path("LastModifiedDate").asText());

        Answer malformed = sf.handle(get("/services/data/v64.0/query", auth,
                Map.of("q", "SELECT Id,Email FROM Contact WHERE HasOptedOutOfEmail=false")));
        assertEquals(400, malformed.status());
        assertEquals("MALFORMED_QUERY", json(malformed).at("/0/errorCode").asText());
        assertEquals(400, sf.handle(get("/services/data/v64.0/query/garbage", auth, Map.of())).status());
        assertEquals(401, sf.handle(get("/services/data/v64.0/query/01gSBX-2000", Map.of(), Map.of())).status());
    }

    @Test
    void hubspotSearchesContactsByIdAndReadsTheirEmailStatuses() {
        HubSpotSandbox hubspot = new HubSpotSandbox();
        Map<String, String> auth = Map.of("Authorization", "Bearer t", "Content-Type", "application/json");
        StringBuilder inputs = new StringBuilder();
        for (String email : List.of("a", "b", "c", "d", "e")) {
            inputs.append(inputs.length() == 0 ? "" : ",").append("{\"subscriberIdString\":\"").append(email)
                    .append("@example.com\",\"channel\":\"EMAIL\",\"statusState\":\"")
                    .append(email.equals("b") || email.equals("d") ? "UNSUBSCRIBED" : "SUBSCRIBED")
                    .append("\",\"subscriptionId\":1001}");
        }
        assertEquals(200, hubspot.handle(post("/communication-preferences/v4/statuses/batch/write", auth,
                "{\"inputs\":[" + inputs + "]}")).status());
        hubspot.suppress("f@example.com", "bounce", AT);

        List<String> ids = new ArrayList<>();
        List<String> emails = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        String last = "0";
        while (last != null) {
            Answer answer = hubspot.handle(post("/crm/v3/objects/contacts/search", auth, hubspotSearch(last, 2)));
            assertEquals(200, answer.status(), answer.body());
            JsonNode page = json(answer);
            page.path("results").forEach(r -> {
                ids.add(r.path("id").asText());
                emails.add(r.at("/properties/email").asText());
                assertEquals(r.path("id").asText(), r.at("/properties/hs_object_id").asText());
                assertFalse(r.path("archived").asBoolean(true));
            });
            sizes.add(page.path("results").size());
            last = page.path("paging").isMissingNode() ? null : ids.get(ids.size() - 1);
        }
        assertEquals(List.of("1", "2", "3", "4", "5", "6"), ids);
        assertEquals(List.of("a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com",
                "f@example.com"), emails);
        assertEquals(List.of(2, 2, 2), sizes);
        JsonNode byOffset = json(hubspot.handle(post("/crm/v3/objects/contacts/search", auth,
                "{\"filterGroups\":[],\"sorts\":[\"hs_object_id\"],\"properties\":[\"email\"],\"limit\":2,"
                        + "\"after\":\"2\"}")));
        assertEquals(6, byOffset.path("total").asInt());
        assertEquals("3", byOffset.at("/results/0/id").asText());
        assertEquals("4", byOffset.at("/paging/next/after").asText());

        Answer read = hubspot.handle(new Request("POST", "/communication-preferences/v4/statuses/batch/read",
                Map.of("channel", "EMAIL"), auth, ("{\"inputs\":[\"b@example.com\",\"a@example.com\",\"nobody@example.com\","
                        + "\"f@example.com\"]}").getBytes(UTF_8)));
        assertEquals(200, read.status(), read.body());
        JsonNode results = json(read).path("results");
        assertEquals("COMPLETE", json(read).path("status").asText());
        assertEquals("b@example.com", results.at("/0/subscriberIdString").asText());
        assertEquals("UNSUBSCRIBED", results.at("/0/statuses/0/status").asText());
        assertEquals(HubSpotSandbox.SUBSCRIPTION_ID, results.at("/0/statuses/0/subscriptionId").asLong());
        assertEquals("EMAIL", results.at("/0/statuses/0/channel").asText());
        assertEquals("SUBSCRIBED", results.at("/1/statuses/0/status").asText());
        assertEquals(0, results.at("/2/statuses").size());
        assertEquals("2026-11-23T10:00:00Z", results.at("/3/statuses/0/timestamp").asText());

        assertEquals(400, hubspot.handle(post("/crm/v3/objects/contacts/search", auth, hubspotSearch("0", 201))).status());
        assertEquals(400, hubspot.handle(post("/crm/v3/objects/contacts/search", auth,
                "{\"filterGroups\":[],\"properties\":[\"email\"],\"limit\":2,\"after\":\"0\"}")).status());
        assertEquals(400, hubspot.handle(post("/crm/v3/objects/contacts/search", auth, hubspotSearch("x", 2))).status());
        assertEquals(400, hubspot.handle(post("/communication-preferences/v4/statuses/batch/read", auth,
                "{\"inputs\":[\"a@example.com\"]}")).status());
    }

    @Test
    void shopifyListsUnsubscribedAndInvalidCustomersByCursor() {
        ShopifySandbox shopify = new ShopifySandbox();
        Map<String, String> auth = Map.of("X-Shopify-Access-Token", "shpat", "Content-Type", "application/json");
        // The hub's propagation: find the customer by email, then unsubscribe it.
        JsonNode found = json(shopify.handle(post(SHOPIFY, auth, "{\"query\":\"query customerByEmail($query: String!) {"
                + " customers(first: 5, query: $query) { edges { node { id } } } }\",\"variables\":{\"query\":"
                + "\"email:\\\"p@example.com\\\"\"}}")));
        String gid = found.at("/data/customers/edges/0/node/id").asText();
        assertEquals("gid://shopify/Customer/" + ShopifySandbox.id("p@example.com"), gid);
        assertEquals(200, shopify.handle(post(SHOPIFY, auth, "{\"query\":\"mutation m("
                + "$input: CustomerEmailMarketingConsentUpdateInput!) { customerEmailMarketingConsentUpdate(input: $input)"
                + " { userErrors { message } } }\",\"variables\":{\"input\":"
                + "{\"customerId\":\"" + gid + "\",\"emailMarketingConsent\":{\"marketingState\":\"UNSUBSCRIBED\","
                + "\"consentUpdatedAt\":\"2026-11-20T10:00:00Z\"}}}}")).status());
        shopify.suppress("a@example.com", "INVALID", AT);
        shopify.suppress("b@example.com", null, AT);
        shopify.suppress("c@example.com", "HARD_BOUNCE", AT);
        shopify.subscribe("d@example.com", AT);

        Map<String, String> states = new HashMap<>();
        List<Long> ids = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Answer answer = shopify.handle(post(SHOPIFY, auth, shopifyList(2, cursor)));
            JsonNode customers = json(answer).at("/data/customers");
            assertTrue(customers.path("edges").isArray(), answer.body());
            assertEquals(2000.0, json(answer).at("/extensions/cost/throttleStatus/maximumAvailable").asDouble());
            customers.path("edges").forEach(e -> {
                ids.add(Long.parseLong(e.at("/node/id").asText().substring("gid://shopify/Customer/".length())));
                states.put(e.at("/node/defaultEmailAddress/emailAddress").asText(),
                        e.at("/node/defaultEmailAddress/marketingState").asText() + " "
                                + e.at("/node/defaultEmailAddress/marketingUpdatedAt").asText());
            });
            cursor = customers.at("/pageInfo/hasNextPage").asBoolean() ? customers.at("/pageInfo/endCursor").asText() : null;
            pages++;
        } while (cursor != null);
        assertEquals(2, pages);
        assertEquals(ids.stream().sorted().toList(), ids);
        assertEquals(Map.of("p@example.com", "UNSUBSCRIBED 2026-11-20T10:00:00Z",
                "a@example.com", "INVALID 2026-11-23T10:00:00Z",
                "b@example.com", "UNSUBSCRIBED 2026-11-23T10:00:00Z", "c@example.com", "UNSUBSCRIBED 2026-11-23T10:00:00Z"),
                states);

        assertTrue(shopify.handle(post(SHOPIFY, auth, shopifyList(251, null))).body().contains("\"errors\""));
        assertTrue(shopify.handle(post(SHOPIFY, auth, shopifyList(2, "%%%"))).body().contains("\"errors\""));
        ObjectNode otherSearch = (ObjectNode) node(shopifyList(2, null));
        ((ObjectNode) otherSearch.get("variables")).put("query", "tag:vip");
        assertTrue(shopify.handle(post(SHOPIFY, auth, otherSearch.toString())).body().contains("\"errors\""));
    }

    @Test
    void loyaltyListsOptedOutMembersByCursor() {
        LoyaltySandbox loyalty = new LoyaltySandbox();
        Map<String, String> headers = Map.of("X-Api-Key", "k", "Content-Type", "application/json");
        for (String event : List.of(
                "{\"memberId\":\"M2\",\"email\":\"b@example.com\",\"channel\":\"email\",\"optIn\":false,"
                        + "\"reason\":\"complaint\",\"occurredAt\":\"2026-11-20T14:30:00Z\"}",
                "{\"memberId\":\"M1\",\"email\":\"a@example.com\",\"channel\":\"email\",\"optIn\":false,"
                        + "\"occurredAt\":\"2026-11-20T14:30:00Z\"}",
                "{\"memberId\":\"M3\",\"email\":\"c@example.com\",\"channel\":\"email\",\"optIn\":true,"
                        + "\"occurredAt\":\"2026-11-20T14:30:00Z\"}",
                "{\"memberId\":\"\",\"email\":\"e@example.com\",\"channel\":\"email\",\"optIn\":false,"
                        + "\"occurredAt\":\"2026-11-21T08:00:00Z\"}")) {
            assertEquals(202, loyalty.handle(post("/api/v1/consent-events", headers, event)).status());
        }
        loyalty.suppress("z@example.com", "BOUNCED", AT);

        List<String> members = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Map<String, String> query = new HashMap<>(Map.of("optedOut", "true", "limit", "2"));
            if (cursor != null) {
                query.put("cursor", cursor);
            }
            Answer answer = loyalty.handle(get("/api/v1/members", headers, query));
            assertEquals(200, answer.status(), answer.body());
            JsonNode page = json(answer);
            page.path("members").forEach(m -> {
                members.add(m.path("memberId").asText() + " " + m.path("email").asText());
                reasons.add(m.path("reason").asText() + " " + m.path("updatedAt").asText());
                assertFalse(m.path("optIn").asBoolean(true));
            });
            cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asText();
            pages++;
        } while (cursor != null);
        assertEquals(2, pages);
        assertEquals(List.of("M1 a@example.com", "M2 b@example.com", LoyaltySandbox.memberId("e@example.com")
                + " e@example.com", LoyaltySandbox.memberId("z@example.com") + " z@example.com"), members);
        assertEquals(List.of("unsubscribed 2026-11-20T14:30:00Z", "complaint 2026-11-20T14:30:00Z",
                "unsubscribed 2026-11-21T08:00:00Z", "bounced 2026-11-23T10:00:00Z"), reasons);
        assertEquals(4, json(loyalty.handle(get("/api/v1/members", headers, Map.of("optedOut", "true")))).path("members")
                .size());

        assertEquals(400, loyalty.handle(get("/api/v1/members", headers, Map.of("optedOut", "true", "limit", "1001")))
                .status());
        assertEquals(400, loyalty.handle(get("/api/v1/members", headers, Map.of("optedOut", "true", "cursor", "%%%")))
                .status());
        assertEquals(401, loyalty.handle(get("/api/v1/members", Map.of(), Map.of("optedOut", "true"))).status());
    }

    @Test
    void theSeedingKnobsSuppressAndSubscribeAndRefuseABodyWithoutEmail() {
        KlaviyoSandbox klaviyo = new KlaviyoSandbox();
        assertEquals(204, SandboxVendors.seed(klaviyo, "/_suppress",
                node("{\"email\":\"A@Example.com\",\"reason\":\"HARD_BOUNCE\",\"at\":\"2026-11-23T10:00:00Z\"}")).status());
        assertEquals("HARD_BOUNCE", klaviyo.state().at("/profiles/a@example.com/suppression").asText());
        assertEquals("2026-11-23T10:00:00Z", klaviyo.state().at("/profiles/a@example.com/updated").asText());
        assertEquals(204, SandboxVendors.seed(klaviyo, "/_subscribe", node("{\"email\":\"a@example.com\"}")).status());
        assertEquals("SUBSCRIBED", klaviyo.state().at("/profiles/a@example.com/consent").asText());
        assertTrue(klaviyo.state().at("/profiles/a@example.com/suppression").isNull());
        assertEquals(204, SandboxVendors.seed(klaviyo, "/_suppress", node("{\"email\":\"b@example.com\"}")).status());
        assertEquals("UNSUBSCRIBED", klaviyo.state().at("/profiles/b@example.com/consent").asText());
        for (String bad : List.of("{\"email\":\"a@example.com\",\"reason\":\"BOUNCED\"}", "{\"reason\":\"HARD_BOUNCE\"}",
                "{\"email\":\"a@example.com\",\"at\":\"yesterday\"}", "[]")) {
            Answer refused = SandboxVendors.seed(klaviyo, "/_suppress", node(bad));
            assertEquals(400, refused.status(), bad);
            assertTrue(json(refused).path("error").isTextual(), refused.body());
        }
        assertEquals(400, SandboxVendors.seed(klaviyo, "/_subscribe", null).status());

        SalesforceSandbox sf = new SalesforceSandbox();
        HubSpotSandbox hubspot = new HubSpotSandbox();
        ShopifySandbox shopify = new ShopifySandbox();
        LoyaltySandbox loyalty = new LoyaltySandbox();
        for (SandboxApi api : List.of(sf, hubspot, shopify, loyalty)) {
            assertEquals(204, SandboxVendors.seed(api, "/_suppress",
                    node("{\"email\":\"x@example.com\",\"reason\":\"Bounced\"}")).status());
            assertEquals(400, SandboxVendors.seed(api, "/_subscribe", node("{}")).status());
        }
        assertTrue(sf.state().at("/contacts/x@example.com/HasOptedOutOfEmail").asBoolean());
        assertEquals("UNSUBSCRIBED", hubspot.state().at("/subscriptions/1001/x@example.com").asText());
        assertEquals("UNSUBSCRIBED", shopify.state().at("/customers/" + ShopifySandbox.id("x@example.com")
                + "/emailMarketingState").asText());
        assertEquals("bounced", loyalty.state().at("/members/x@example.com/reason").asText());
        for (SandboxApi api : List.of(sf, hubspot, shopify, loyalty)) {
            assertEquals(204, SandboxVendors.seed(api, "/_subscribe", node("{\"email\":\"x@example.com\"}")).status());
        }
        assertFalse(sf.state().at("/contacts/x@example.com/HasOptedOutOfEmail").asBoolean(true));
        assertEquals("SUBSCRIBED", hubspot.state().at("/subscriptions/1001/x@example.com").asText());
        assertEquals("SUBSCRIBED", shopify.state().at("/customers/" + ShopifySandbox.id("x@example.com")
                + "/emailMarketingState").asText());
        assertTrue(loyalty.state().at("/members/x@example.com/emailOptIn").asBoolean());
    }

    @Test
    void salesforceKeepsTheAddressFieldsAPatchSendsAndServesThemOnGet() {
        SalesforceSandbox sf = new SalesforceSandbox();
        Map<String, String> auth = Map.of("Authorization", "Bearer t", "Content-Type", "application/json");
        sf.suppress("a@example.com", "bounced", AT);
        String path = "/services/data/v64.0/sobjects/Contact/" + SalesforceSandbox.id("a@example.com");
        assertEquals(204, sf.handle(patch(path, auth, "{\"MailingStreet\":\"1 Main St\\nApt 2\",\"MailingCity\":"
                + "\"Springfield\",\"MailingState\":\"Illinois\",\"MailingPostalCode\":\"62701\",\"MailingCountry\":"
                + "\"United States\",\"OtherStreet\":\"9 Side Rd\",\"OtherCity\":\"Chicago\",\"OtherStateCode\":\"IL\","
                + "\"OtherPostalCode\":\"60601\",\"OtherCountryCode\":\"US\"}")).status());

        Answer read = sf.handle(get(path, auth, Map.of()));
        assertEquals(200, read.status(), read.body());
        JsonNode contact = json(read);
        assertEquals("Contact", contact.at("/attributes/type").asText());
        assertEquals(path, contact.at("/attributes/url").asText());
        assertEquals(SalesforceSandbox.id("a@example.com"), contact.path("Id").asText());
        assertEquals("a@example.com", contact.path("Email").asText());
        assertTrue(contact.path("HasOptedOutOfEmail").asBoolean(), "an address PATCH leaves the opt-out as it was");
        assertTrue(contact.path("LastModifiedDate").isTextual());
        assertEquals("1 Main St\nApt 2", contact.path("MailingStreet").asText());
        assertEquals("Springfield", contact.path("MailingCity").asText());
        assertEquals("Illinois", contact.path("MailingState").asText());
        assertEquals("62701", contact.path("MailingPostalCode").asText());
        assertEquals("United States", contact.path("MailingCountry").asText());
        assertEquals("9 Side Rd", contact.path("OtherStreet").asText());
        assertEquals("Chicago", contact.path("OtherCity").asText());
        assertEquals("IL", contact.path("OtherStateCode").asText());
        assertEquals("60601", contact.path("OtherPostalCode").asText());
        assertEquals("US", contact.path("OtherCountryCode").asText());
        assertEquals("bounced", sf.state().at("/contacts/a@example.com/reason").asText());
        assertEquals("Chicago", sf.state().at("/contacts/a@example.com/OtherCity").asText());

        // A later PATCH changes only what it sends; null clears a field; the opt-out works as before.
        assertEquals(204, sf.handle(patch(path, auth, "{\"OtherCity\":\"Evanston\",\"MailingState\":null}")).status());
        contact = json(sf.handle(get(path, auth, Map.of())));
        assertEquals("Evanston", contact.path("OtherCity").asText());
        assertTrue(contact.path("MailingState").isMissingNode(), contact.toString());
        assertEquals("Springfield", contact.path("MailingCity").asText());
        assertEquals(204, sf.handle(patch(path, auth, "{\"HasOptedOutOfEmail\":false}")).status());
        contact = json(sf.handle(get(path, auth, Map.of())));
        assertFalse(contact.path("HasOptedOutOfEmail").asBoolean(true));
        assertEquals("Evanston", contact.path("OtherCity").asText());
    }

    @Test
    void salesforceRefusesAnAddressPatchWithAWrongTypeOrUnknownFieldAndChangesNothing() {
        SalesforceSandbox sf = new SalesforceSandbox();
        Map<String, String> auth = Map.of("Authorization", "Bearer t", "Content-Type", "application/json");
        sf.subscribe("a@example.com", AT);
        String path = "/services/data/v64.0/sobjects/Contact/" + SalesforceSandbox.id("a@example.com");
        assertEquals(204, sf.handle(patch(path, auth, "{\"OtherCity\":\"Chicago\"}")).status());

        Answer wrongType = sf.handle(patch(path, auth, "{\"OtherStreet\":\"9 Side Rd\",\"OtherPostalCode\":60601}"));
        assertEquals(400, wrongType.status());
        assertEquals("JSON_PARSER_ERROR", json(wrongType).at("/0/errorCode").asText());
        assertTrue(json(wrongType).at("/0/message").asText().contains("OtherPostalCode"), wrongType.body());
        Answer unknown = sf.handle(patch(path, auth, "{\"OtherCity\":\"Evanston\",\"OtherPlanet\":\"Mars\"}"));
        assertEquals(400, unknown.status());
        assertEquals("INVALID_FIELD", json(unknown).at("/0/errorCode").asText());

        JsonNode contact = json(sf.handle(get(path, auth, Map.of())));
        assertEquals("Chicago", contact.path("OtherCity").asText());
        assertTrue(contact.path("OtherStreet").isMissingNode(), contact.toString());
        Answer missing = sf.handle(get("/services/data/v64.0/sobjects/Contact/003000000000000AAA", auth, Map.of()));
        assertEquals(404, missing.status());
        assertEquals("NOT_FOUND", json(missing).at("/0/errorCode").asText());
        assertEquals(401, sf.handle(get(path, Map.of(), Map.of())).status());
    }

    @Test
    void hubspotUpdatesAContactsAddressPropertiesByIdOrEmail() {
        HubSpotSandbox hubspot = new HubSpotSandbox();
        Map<String, String> auth = Map.of("Authorization", "Bearer t", "Content-Type", "application/json");
        assertEquals(200, hubspot.handle(post("/communication-preferences/v4/statuses/batch/write", auth,
                "{\"inputs\":[{\"subscriberIdString\":\"a@example.com\",\"channel\":\"EMAIL\","
                        + "\"statusState\":\"SUBSCRIBED\",\"subscriptionId\":1001}]}")).status());

        Answer byEmail = hubspot.handle(new Request("PATCH", "/crm/v3/objects/contacts/b%2Btag%40example.com",
                Map.of("idProperty", "email"), auth, ("{\"properties\":{\"address\":\"1 Main St\",\"city\":"
                        + "\"Springfield\",\"state\":\"IL\",\"zip\":\"62701\",\"country\":\"US\"}}").getBytes(UTF_8)));
        assertEquals(200, byEmail.status(), byEmail.body());
        JsonNode b = json(byEmail);
        assertEquals("2", b.path("id").asText(), "a contact the sandbox first hears of gets the next id");
        assertEquals("b+tag@example.com", b.at("/properties/email").asText());
        assertEquals("2", b.at("/properties/hs_object_id").asText());
        assertEquals("1 Main St", b.at("/properties/address").asText());
        assertEquals("Springfield", b.at("/properties/city").asText());
        assertEquals("IL", b.at("/properties/state").asText());
        assertEquals("62701", b.at("/properties/zip").asText());
        assertEquals("US", b.at("/properties/country").asText());
        assertTrue(b.path("createdAt").isTextual() && b.path("updatedAt").isTextual());
        assertFalse(b.path("archived").asBoolean(true));

        Answer byId = hubspot.handle(patch("/crm/v3/objects/contacts/1", auth, "{\"properties\":{\"city\":\"Boston\"}}"));
        assertEquals(200, byId.status(), byId.body());
        assertEquals("a@example.com", json(byId).at("/properties/email").asText());
        assertEquals("Boston", json(byId).at("/properties/city").asText());
        // A second PATCH keeps what it does not send.
        Answer again = hubspot.handle(patch("/crm/v3/objects/contacts/2", auth, "{\"properties\":{\"zip\":\"62702\"}}"));
        assertEquals("62702", json(again).at("/properties/zip").asText());
        assertEquals("Springfield", json(again).at("/properties/city").asText());

        ObjectNode state = hubspot.state();
        assertEquals("Boston", state.at("/contacts/a@example.com/properties/city").asText());
        assertEquals("62702", state.at("/contacts/b+tag@example.com/properties/zip").asText());
        assertEquals("SUBSCRIBED", state.at("/subscriptions/1001/a@example.com").asText());
        assertTrue(state.at("/subscriptions/1001/b+tag@example.com").isMissingNode(),
                "an address update gives no subscription status");
    }

    @Test
    void hubspotRefusesANonStringValueAnUnknownPropertyAndAnUnknownId() {
        HubSpotSandbox hubspot = new HubSpotSandbox();
        Map<String, String> auth = Map.of("Authorization", "Bearer t", "Content-Type", "application/json");
        Map<String, String> byEmail = Map.of("idProperty", "email");
        String path = "/crm/v3/objects/contacts/a%40example.com";
        assertEquals(200, hubspot.handle(new Request("PATCH", path, byEmail, auth,
                "{\"properties\":{\"zip\":\"62701\"}}".getBytes(UTF_8))).status());

        Answer number = hubspot.handle(new Request("PATCH", path, byEmail, auth,
                "{\"properties\":{\"zip\":62702}}".getBytes(UTF_8)));
        assertEquals(400, number.status());
        assertEquals("error", json(number).path("status").asText());
        assertEquals("VALIDATION_ERROR", json(number).path("category").asText());
        assertTrue(json(number).path("message").asText().contains("zip"), number.body());
        Answer unknown = hubspot.handle(new Request("PATCH", path, byEmail, auth,
                "{\"properties\":{\"city\":\"Boston\",\"planet\":\"Mars\"}}".getBytes(UTF_8)));
        assertEquals(400, unknown.status());
        assertEquals("VALIDATION_ERROR", json(unknown).path("category").asText());
        assertTrue(json(unknown).path("message").asText().contains("PROPERTY_DOESNT_EXIST"), unknown.body());
        assertEquals("62701", hubspot.state().at("/contacts/a@example.com/properties/zip").asText());
        assertTrue(hubspot.state().at("/contacts/a@example.com/properties/city").isMissingNode());

        Answer noSuchId = hubspot.handle(patch("/crm/v3/objects/contacts/999", auth, "{\"properties\":{\"zip\":\"1\"}}"));
        assertEquals(404, noSuchId.status());
        assertEquals("OBJECT_NOT_FOUND", json(noSuchId).path("category").asText());
        assertEquals(401, hubspot.handle(new Request("PATCH", path, byEmail, Map.of("Content-Type", "application/json"),
                "{\"properties\":{\"zip\":\"1\"}}".getBytes(UTF_8))).status());
    }

    @Test
    void klaviyoImportsAProfileLocationCreatingOrUpdatingTheProfile() {
        KlaviyoSandbox klaviyo = new KlaviyoSandbox();
        klaviyo.suppress("a@example.com", "HARD_BOUNCE", AT);
        Answer known = klaviyo.handle(post("/api/profile-import", KLAVIYO, klaviyoImport("a@example.com",
                "{\"address1\":\"1 Main St\",\"address2\":\"Apt 2\",\"city\":\"Springfield\",\"region\":\"Illinois\","
                        + "\"zip\":\"62701\",\"country\":\"United States\"}")));
        assertEquals(200, known.status(), known.body());
        assertEquals("application/vnd.api+json", known.contentType());
        assertEquals("profile", json(known).at("/data/type").asText());
        assertEquals(KlaviyoSandbox.id("a@example.com"), json(known).at("/data/id").asText());
        assertEquals("a@example.com", json(known).at("/data/attributes/email").asText());
        assertEquals("Apt 2", json(known).at("/data/attributes/location/address2").asText());

        Answer created = klaviyo.handle(post("/api/profile-import", KLAVIYO, klaviyoImport("New@Example.com",
                "{\"address1\":\"9 Rue X\",\"city\":\"Lyon\",\"zip\":\"69001\",\"country\":\"France\"}")));
        assertEquals(201, created.status(), created.body());
        assertEquals(KlaviyoSandbox.id("new@example.com"), json(created).at("/data/id").asText());
        Answer updated = klaviyo.handle(post("/api/profile-import", KLAVIYO, klaviyoImport("new@example.com",
                "{\"city\":\"Paris\",\"zip\":\"75001\"}")));
        assertEquals(200, updated.status(), updated.body());
        assertEquals("9 Rue X", json(updated).at("/data/attributes/location/address1").asText(),
                "a location field not sent is kept");
        assertEquals("Paris", json(updated).at("/data/attributes/location/city").asText());

        ObjectNode state = klaviyo.state();
        assertEquals("HARD_BOUNCE", state.at("/profiles/a@example.com/suppression").asText(),
                "an import leaves consent and suppression as they were");
        assertEquals("62701", state.at("/profiles/a@example.com/location/zip").asText());
        assertEquals("NEVER_SUBSCRIBED", state.at("/profiles/new@example.com/consent").asText());
        assertEquals("75001", state.at("/profiles/new@example.com/location/zip").asText());
        assertEquals("France", state.at("/profiles/new@example.com/location/country").asText());
    }

    @Test
    void klaviyoRefusesAnImportOfAnotherTypeOrWithoutEmailOrHeaders() {
        KlaviyoSandbox klaviyo = new KlaviyoSandbox();
        Answer wrongType = klaviyo.handle(post("/api/profile-import", KLAVIYO,
                "{\"data\":{\"type\":\"customer\",\"attributes\":{\"email\":\"a@example.com\"}}}"));
        assertEquals(400, wrongType.status());
        assertEquals(400, json(wrongType).at("/errors/0/status").asInt());
        assertEquals("/data/type", json(wrongType).at("/errors/0/source/pointer").asText());
        Answer noEmail = klaviyo.handle(post("/api/profile-import", KLAVIYO,
                "{\"data\":{\"type\":\"profile\",\"attributes\":{\"location\":{\"city\":\"Paris\"}}}}"));
        assertEquals(400, noEmail.status());
        assertEquals("invalid", json(noEmail).at("/errors/0/code").asText());
        assertEquals("/data/attributes/email", json(noEmail).at("/errors/0/source/pointer").asText());
        String good = klaviyoImport("a@example.com", "{\"city\":\"Paris\"}");
        assertEquals(415, klaviyo.handle(post("/api/profile-import", Map.of("Authorization", "Klaviyo-API-Key pk_x",
                "revision", "2026-07-15", "Content-Type", "application/json"), good)).status());
        assertEquals(400, klaviyo.handle(post("/api/profile-import", Map.of("Authorization", "Klaviyo-API-Key pk_x",
                "Content-Type", "application/vnd.api+json"), good)).status());
        assertTrue(klaviyo.state().at("/profiles/a@example.com").isMissingNode(), "nothing refused was kept");
    }

    @Test
    void loyaltyStoresAMemberAddressPerTypeAndAnswersARepeatedKeyWithoutApplyingIt() {
        LoyaltySandbox loyalty = new LoyaltySandbox();
        String path = "/api/v1/members/a%2Bvip%40example.com/address";
        Answer stored = loyalty.handle(put(path, loyaltyHeaders("addr-1"), loyaltyAddress("M1", "shipping", "Springfield")));
        assertEquals(200, stored.status(), stored.body());
        JsonNode address = json(stored);
        assertEquals("M1", address.path("memberId").asText());
        assertEquals("a+vip@example.com", address.path("email").asText());
        assertEquals("shipping", address.path("type").asText());
        assertEquals("1 Main St", address.path("line1").asText());
        assertEquals("Springfield", address.path("city").asText());
        assertEquals("62701", address.path("postalCode").asText());
        assertEquals("2026-11-23T10:00:00Z", address.path("updatedAt").asText());
        assertEquals("salesforce", address.path("source").asText());

        // The same key again: the first answer, nothing applied.
        Answer repeat = loyalty.handle(put(path, loyaltyHeaders("addr-1"), loyaltyAddress("M1", "shipping", "Chicago")));
        assertEquals(200, repeat.status(), repeat.body());
        assertEquals("Springfield", json(repeat).path("city").asText());
        assertEquals("Springfield", loyalty.state().at("/addresses/a+vip@example.com/shipping/city").asText());

        assertEquals(200, loyalty.handle(put(path, loyaltyHeaders("addr-2"), loyaltyAddress("", "billing", "Chicago")))
                .status());
        ObjectNode state = loyalty.state();
        assertEquals("Springfield", state.at("/addresses/a+vip@example.com/shipping/city").asText());
        assertEquals("Chicago", state.at("/addresses/a+vip@example.com/billing/city").asText());
        assertEquals(LoyaltySandbox.memberId("a+vip@example.com"),
                state.at("/addresses/a+vip@example.com/billing/memberId").asText());
        assertEquals(200, loyalty.handle(put(path, loyaltyHeaders("addr-3"), loyaltyAddress("M1", "shipping", "Peoria")))
                .status());
        assertEquals("Peoria", loyalty.state().at("/addresses/a+vip@example.com/shipping/city").asText());
    }

    @Test
    void loyaltyRefusesAnAddressOfAnotherTypeOrWithoutARequiredField() {
        LoyaltySandbox loyalty = new LoyaltySandbox();
        String path = "/api/v1/members/a%40example.com/address";
        Answer home = loyalty.handle(put(path, loyaltyHeaders("bad-1"), loyaltyAddress("M1", "home", "Springfield")));
        assertEquals(400, home.status());
        assertTrue(json(home).path("error").asText().contains("type must be shipping or billing"), home.body());
        ObjectNode noPostalCode = (ObjectNode) node(loyaltyAddress("M1", "shipping", "Springfield"));
        noPostalCode.remove("postalCode");
        noPostalCode.put("line1", "");
        Answer missing = loyalty.handle(put(path, loyaltyHeaders("bad-2"), noPostalCode.toString()));
        assertEquals(400, missing.status());
        assertTrue(json(missing).path("error").asText().contains("postalCode"), missing.body());
        assertTrue(json(missing).path("error").asText().contains("line1"), missing.body());
        assertTrue(loyalty.state().path("addresses").isEmpty(), loyalty.state().toString());
        // A refused request does not use up its key.
        assertEquals(200, loyalty.handle(put(path, loyaltyHeaders("bad-2"), loyaltyAddress("M1", "shipping", "Springfield")))
                .status());
        assertEquals(401, loyalty.handle(put(path, Map.of("Content-Type", "application/json"),
                loyaltyAddress("M1", "shipping", "Springfield"))).status());
    }

    static String klaviyoImport(String email, String location) {
        return "{\"data\":{\"type\":\"profile\",\"attributes\":{\"email\":\"" + email + "\",\"location\":" + location
                + "}}}";
    }

    static Map<String, String> loyaltyHeaders(String idempotencyKey) {
        return Map.of("X-Api-Key", "k", "Content-Type", "application/json", "Idempotency-Key", idempotencyKey);
    }

    /** An address PUT body as routes/loyalty-address-subscriber.yaml sends it. */
    static String loyaltyAddress(String memberId, String type, String city) {
        return "{\"memberId\":\"" + memberId + "\",\"type\":\"" + type + "\",\"line1\":\"1 Main St\",\"line2\":\"\","
                + "\"city\":\"" + city + "\",\"region\":\"IL\",\"postalCode\":\"62701\",\"country\":\"US\","
                + "\"updatedAt\":\"2026-11-23T10:00:00Z\",\"source\":\"salesforce\"}";
    }

    static final String SHOPIFY = "/admin/api/2026-07/graphql.json";

    static String klaviyoJob(String type, String email, String consent) {
        String subscriptions = consent == null ? ""
                : ",\"subscriptions\":{\"email\":{\"marketing\":{\"consent\":\"" + consent + "\"}}}";
        return "{\"data\":{\"type\":\"" + type + "\",\"attributes\":{\"profiles\":{\"data\":[{\"type\":\"profile\","
                + "\"attributes\":{\"email\":\"" + email + "\"" + subscriptions + "}}]}}}}";
    }

    /** A GET of a {@code links.next} URL as the sandbox sees it (path after {@code /sandbox/klaviyo}, decoded query). */
    static Request klaviyoGet(String url, Map<String, String> headers) {
        assertTrue(url.startsWith("http://hub:8080/sandbox/klaviyo/api/profiles?"), url);
        URI uri = URI.create(url);
        Map<String, String> query = new HashMap<>();
        for (String pair : uri.getRawQuery().split("&")) {
            int eq = pair.indexOf('=');
            query.put(URLDecoder.decode(pair.substring(0, eq), UTF_8), URLDecoder.decode(pair.substring(eq + 1), UTF_8));
        }
        return new Request("GET", uri.getPath().substring("/sandbox/klaviyo".length()), query, headers, null);
    }

    static List<String> klaviyoReason(KlaviyoSandbox klaviyo, Map<String, String> headers, String reason) {
        List<String> emails = new ArrayList<>();
        json(klaviyo.handle(new Request("GET", "/api/profiles", Map.of("additional-fields[profile]", "subscriptions",
                "page[size]", "100", "filter", "equals(subscriptions.email.marketing.suppression.reason,\"" + reason
                        + "\")"), headers, null))).path("data").forEach(p -> emails.add(p.at("/attributes/email").asText()));
        return emails;
    }

    static String hubspotSearch(String lastId, int limit) {
        return "{\"filterGroups\":[{\"filters\":[{\"propertyName\":\"hs_object_id\",\"operator\":\"GT\",\"value\":\""
                + lastId + "\"}]}],\"sorts\":[\"hs_object_id\"],\"properties\":[\"email\",\"hs_object_id\"],\"limit\":"
                + limit + ",\"after\":\"0\"}";
    }

    static String shopifyList(int first, String cursor) {
        ObjectNode body = Json.MAPPER.createObjectNode().put("query", "query suppressedCustomers($cursor: String,"
                + " $query: String!) { customers(first: " + first + ", after: $cursor, query: $query) { edges { node { id"
                + " defaultEmailAddress { emailAddress marketingState marketingUpdatedAt } } }"
                + " pageInfo { hasNextPage endCursor } } }");
        body.putObject("variables").put("cursor", cursor)
                .put("query", "email_marketing_state:unsubscribed OR email_marketing_state:invalid");
        return body.toString();
    }

    static JsonNode node(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new AssertionError(json, e);
        }
    }

    static JsonNode json(Answer answer) {
        return node(answer.body());
    }

    static Request get(String path, Map<String, String> headers, Map<String, String> query) {
        return new Request("GET", path, query, headers, null);
    }

    static Request post(String path, Map<String, String> headers, String body) {
        return new Request("POST", path, Map.of(), headers, body.getBytes(UTF_8));
    }

    static Request patch(String path, Map<String, String> headers, String body) {
        return new Request("PATCH", path, Map.of(), headers, body.getBytes(UTF_8));
    }

    static Request put(String path, Map<String, String> headers, String body) {
        return new Request("PUT", path, Map.of(), headers, body.getBytes(UTF_8));
    }
}
