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
                ? FakeVendor.status(200, "{\"totalSize\":2,\"done\":true,\"records\":[{\"Id\":\"003A\"},{\"Id\":\"003B\"}]}")
                : FakeVendor.status(204, null));
        Outcome outcome = salesforce.deliver(List.of(delivery(null, "o'brien@example.com")), vendor).get(0);
        assertEquals(Outcome.Kind.DELIVERED, outcome.kind());
        String soql = URLDecoder.decode(vendor.calls.get(0).url().split("q=")[1], StandardCharsets.UTF_8);
        assertEquals("SELECT Id FROM Contact WHERE Email = 'o\\'brien@example.com' LIMIT 20", soql);
        assertEquals(List.of("PATCH https://vendor.example/services/data/v64.0/sobjects/Contact/003A",
                "PATCH https://vendor.example/services/data/v64.0/sobjects/Contact/003B"),
                vendor.calls.subList(1, 3).stream().map(c -> c.summary()).toList());
        assertEquals("{\"HasOptedOutOfEmail\":true}", vendor.calls.get(1).bodyText());
        assertEquals(List.of("salesforce:003A", "salesforce:003B"), linked);
    }

    static Delivery delivery(String systemId, String email) {
        return new Delivery(1, "c", "test", Delivery.KIND_CONSENT, "h", "email", "marketing", ConsentState.UNSUBSCRIBED,
                null, email, systemId, "klaviyo", java.time.Instant.parse("2026-11-20T14:30:00Z"), java.time.Instant.now(), 0);
    }
}
