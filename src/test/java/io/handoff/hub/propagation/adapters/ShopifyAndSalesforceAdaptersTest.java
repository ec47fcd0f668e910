package io.handoff.hub.propagation.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;

class ShopifyAndSalesforceAdaptersTest {

    final List<String> linked = new ArrayList<>();
    final ShopifyAdapter shopify = new ShopifyAdapter(FakeVendor.config("shopify",
            Map.of("hub.systems.shopify.access-token", "shpat_x")), (hub, system, id) -> linked.add(system + ":" + id));
    final SalesforceAdapter salesforce = new SalesforceAdapter(FakeVendor.config("salesforce",
            Map.of("hub.systems.salesforce.access-token", "tok")), (hub, system, id) -> linked.add(system + ":" + id));

    @Test
    void shopifyThrottlingWaitsForTheCostToBeRestored() {
        FakeVendor vendor = new FakeVendor(r -> FakeVendor.status(200, "{\"errors\":[{\"message\":\"Throttled\","
                + "\"extensions\":{\"code\":\"THROTTLED\"}}],\"extensions\":{\"cost\":{\"requestedQueryCost\":110,"
                + "\"throttleStatus\":{\"maximumAvailable\":1000.0,\"currentlyAvailable\":10,\"restoreRate\":50.0}}}}"));
        Outcome outcome = shopify.deliver(List.of(delivery("9001", "a@example.com")), vendor).get(0);
        assertEquals(Outcome.Kind.RETRY, outcome.kind());
        assertEquals(Duration.ofSeconds(2), outcome.retryAfter(), "(110 - 10) points at 50 points/s");
    }

    @Test
    void shopifyUserErrorsFailTheDelivery() {
        FakeVendor vendor = new FakeVendor(r -> FakeVendor.status(200, "{\"data\":{\"customerEmailMarketingConsentUpdate\":"
                + "{\"customer\":null,\"userErrors\":[{\"field\":[\"input\",\"customerId\"],\"message\":\"Customer not found\"}]}}}"));
        Outcome outcome = shopify.deliver(List.of(delivery("9001", "a@example.com")), vendor).get(0);
        assertEquals(Outcome.Kind.FAILED, outcome.kind());
        assertTrue(outcome.detail().contains("Customer not found"), outcome.detail());
    }

    @Test
    void shopifyWithoutTheCustomerIsSkippedAndAFoundCustomerIsLinked() {
        FakeVendor none = new FakeVendor(r -> FakeVendor.status(200, "{\"data\":{\"customers\":{\"edges\":[]}}}"));
        assertEquals(Outcome.Kind.SKIPPED, shopify.deliver(List.of(delivery(null, "a@example.com")), none).get(0).kind());
        FakeVendor found = new FakeVendor(r -> r.bodyText().contains("customers(")
                ? FakeVendor.status(200, "{\"data\":{\"customers\":{\"edges\":[{\"node\":{\"id\":\"gid://shopify/Customer/77\"}}]}}}")
                : FakeVendor.status(200, "{\"data\":{\"customerSmsMarketingConsentUpdate\":{\"customer\":{\"id\":\"gid://shopify/Customer/77\"},\"userErrors\":[]}}}"));
        Delivery sms = new Delivery(1, "c", "shopify", Delivery.KIND_CONSENT, "h", "sms", "marketing",
                ConsentState.UNSUBSCRIBED, null, "b@example.com", null, "klaviyo", java.time.Instant.parse("2026-11-20T14:30:00Z"),
                java.time.Instant.now(), 0);
        assertEquals(Outcome.Kind.DELIVERED, shopify.deliver(List.of(sms), found).get(0).kind());
        assertTrue(found.calls.get(1).bodyText().contains("customerSmsMarketingConsentUpdate"));
        assertTrue(found.calls.get(1).bodyText().contains("\"smsMarketingConsent\":{\"marketingState\":\"UNSUBSCRIBED\""));
        assertEquals(List.of("shopify:77"), linked);
    }

    @Test
    void salesforceEscapesTheEmailInSoqlAndUpdatesEveryMatchingContact() {
        FakeVendor vendor = new FakeVendor(r -> r.method().equals("GET")
                ? FakeVendor.status(200, "{\"totalSize\":2,\"done\":true,\"records\":[{\"Id\":\"003A\",\"Email\":"
                        + "\"o'brien@example.com\"},{\"Id\":\"003B\",\"Email\":\"O'Brien@Example.com\"}]}")
                : FakeVendor.status(204, null));
        Outcome outcome = salesforce.deliver(List.of(delivery(null, "o'brien@example.com")), vendor).get(0);
        assertEquals(Outcome.Kind.DELIVERED, outcome.kind());
        assertEquals("SELECT Id, Email FROM Contact WHERE Email IN ('o\\'brien@example.com') LIMIT 20",
                soql(vendor.calls.get(0)));
        assertEquals(List.of("PATCH https://vendor.example/services/data/v64.0/sobjects/Contact/003A",
                "PATCH https://vendor.example/services/data/v64.0/sobjects/Contact/003B"),
                vendor.calls.subList(1, 3).stream().map(c -> c.summary()).toList());
        assertEquals("{\"HasOptedOutOfEmail\":true}", vendor.calls.get(1).bodyText());
        assertEquals(List.of("salesforce:003A", "salesforce:003B"), linked);
    }

    /**
     * A batch of customers whose Contact ids the hub does not know costs one lookup, not one each (each call counts
     * against the org's daily allocation): the contacts found are updated and linked, a customer the CRM does not hold
     * is skipped, and a customer whose id is known is updated without a lookup.
     */
    @Test
    void salesforceLooksUpABatchsContactsWithOneQuery() {
        FakeVendor vendor = new FakeVendor(r -> r.method().equals("GET")
                ? FakeVendor.status(200, "{\"totalSize\":2,\"done\":true,\"records\":[{\"Id\":\"003A\",\"Email\":"
                        + "\"Ann@example.com\"},{\"Id\":\"003C\",\"Email\":\"cy@example.com\"}]}")
                : FakeVendor.status(204, null));
        List<Outcome> outcomes = salesforce.deliver(List.of(delivery(null, "ann@example.com"),
                delivery(null, "bo@example.com"), delivery("003K", "known@example.com"), delivery(null, "cy@example.com"),
                delivery(null, "ANN@example.com")), vendor);
        assertEquals(List.of(Outcome.Kind.DELIVERED, Outcome.Kind.SKIPPED, Outcome.Kind.DELIVERED,
                Outcome.Kind.DELIVERED, Outcome.Kind.DELIVERED), outcomes.stream().map(Outcome::kind).toList());
        assertEquals("not-in-system: no Contact with this email", outcomes.get(1).detail());
        assertEquals(1, vendor.calls.stream().filter(c -> c.method().equals("GET")).count(), "one lookup");
        assertEquals("SELECT Id, Email FROM Contact WHERE Email IN ('ann@example.com', 'bo@example.com',"
                + " 'cy@example.com') LIMIT 60", soql(vendor.calls.get(0)));
        assertEquals(List.of("003A", "003K", "003C", "003A"), vendor.calls.stream().filter(c -> c.method().equals("PATCH"))
                .map(c -> c.url().substring(c.url().lastIndexOf('/') + 1)).toList());
        assertEquals(List.of("salesforce:003A", "salesforce:003C", "salesforce:003A"), linked);
    }

    /** More customers than one query takes are looked up in several; a failed lookup is each delivery's answer. */
    @Test
    void salesforceSplitsLongLookupsAndAFailedOneIsRetried() {
        List<Delivery> batch = new ArrayList<>();
        for (int i = 0; i < SalesforceAdapter.EMAILS_PER_QUERY + 1; i++) {
            batch.add(delivery(null, "c" + i + "@example.com"));
        }
        FakeVendor vendor = new FakeVendor(r -> r.method().equals("GET")
                ? FakeVendor.status(503, "[{\"errorCode\":\"SERVER_UNAVAILABLE\",\"message\":\"down\"}]")
                : FakeVendor.status(204, null));
        List<Outcome> outcomes = salesforce.deliver(batch, vendor);
        assertEquals(2, vendor.calls.size(), "two lookups and no update");
        assertEquals(SalesforceAdapter.EMAILS_PER_QUERY, soql(vendor.calls.get(0)).split("@example.com").length - 1);
        assertTrue(soql(vendor.calls.get(1)).contains("IN ('c50@example.com')"));
        assertTrue(outcomes.stream().allMatch(o -> o.kind() == Outcome.Kind.RETRY), "every delivery is tried again");
        assertEquals(503, outcomes.get(0).answer().status());
        assertTrue(soql(outcomes.get(50).request()).contains("c50@example.com"), "each outcome names its own lookup");
    }

    static String soql(io.handoff.hub.propagation.VendorRequest request) {
        return URLDecoder.decode(request.url().split("q=")[1], StandardCharsets.UTF_8);
    }

    static Delivery delivery(String systemId, String email) {
        return new Delivery(1, "c", "test", Delivery.KIND_CONSENT, "h", "email", "marketing", ConsentState.UNSUBSCRIBED,
                null, email, systemId, "klaviyo", java.time.Instant.parse("2026-11-20T14:30:00Z"), java.time.Instant.now(), 0);
    }
}
