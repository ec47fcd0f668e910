package io.handoff.hub.propagation.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;

class HubSpotAdapterTest {

    final HubSpotAdapter adapter = new HubSpotAdapter(FakeVendor.config("hubspot", Map.of(
            "hub.systems.hubspot.access-token", "pat", "hub.systems.hubspot.subscriptions.marketing", "11",
            "hub.systems.hubspot.subscriptions.newsletter", "22")));

    @Test
    void eachInputIsConfirmedByItsOwnResultAndAnErrorFailsOnlyItsInput() {
        FakeVendor vendor = new FakeVendor(r -> FakeVendor.status(200, "{\"status\":\"COMPLETE\",\"results\":["
                + "{\"subscriberIdString\":\"a@example.com\",\"subscriptionId\":11,\"status\":\"UNSUBSCRIBED\"}],"
                + "\"numErrors\":1,\"errors\":[{\"message\":\"Subscription 22 is archived\","
                + "\"context\":{\"subscriberIdString\":[\"a@example.com\"]}}]}"));
        List<Outcome> outcomes = adapter.deliver(List.of(delivery("a@example.com", "marketing"),
                delivery("a@example.com", "newsletter")), vendor);
        assertEquals(1, vendor.calls.size(), "one batch write");
        assertEquals(Outcome.Kind.DELIVERED, outcomes.get(0).kind());
        assertEquals(Outcome.Kind.FAILED, outcomes.get(1).kind(),
                "the same email on another subscription type has no result: not confirmed");
        assertTrue(outcomes.get(1).detail().contains("Subscription 22 is archived"), outcomes.get(1).detail());
    }

    @Test
    void aReceiptHoldsOnlyItsOwnCustomersInputAndResult() {
        FakeVendor vendor = new FakeVendor(r -> FakeVendor.status(200, "{\"status\":\"COMPLETE\",\"results\":["
                + "{\"subscriberIdString\":\"a@example.com\",\"subscriptionId\":11,\"status\":\"UNSUBSCRIBED\"},"
                + "{\"subscriberIdString\":\"b@example.com\",\"subscriptionId\":11,\"status\":\"UNSUBSCRIBED\"}]}"));
        List<Outcome> outcomes = adapter.deliver(List.of(delivery("a@example.com", "marketing"),
                delivery("b@example.com", "marketing")), vendor);
        assertTrue(vendor.calls.get(0).bodyText().contains("b@example.com"), "the call carries both");
        Outcome a = outcomes.get(0);
        assertFalse(a.request().bodyText().contains("b@example.com"), a.request().bodyText());
        assertFalse(a.answer().body().contains("b@example.com"), a.answer().body());
    }

    static Delivery delivery(String email, String purpose) {
        return new Delivery(1, "c", "hubspot", Delivery.KIND_CONSENT, "h", "email", purpose, ConsentState.UNSUBSCRIBED,
                null, email, null, "shopify", Instant.parse("2026-11-20T14:30:00Z"), Instant.now(), 0);
    }
}
