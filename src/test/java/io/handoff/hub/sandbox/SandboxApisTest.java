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

/** The simulated vendors refuse what the real APIs refuse, and list their suppressed contacts page by page. */
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
}
