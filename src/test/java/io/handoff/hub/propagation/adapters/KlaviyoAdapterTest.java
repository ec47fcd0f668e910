package io.handoff.hub.propagation.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorRequest;
import io.handoff.hub.support.ContractSchemas;
import io.handoff.hub.support.Json;

class KlaviyoAdapterTest {

    static final String SCHEMAS = "/vendor-contracts/klaviyo/";
    final KlaviyoAdapter adapter = new KlaviyoAdapter(FakeVendor.config("klaviyo",
            Map.of("hub.systems.klaviyo.api-key", "pk_live", "hub.systems.klaviyo.lists.newsletter", "Y6nRLr")));

    @Test
    void unsubscribesInJobsOfAtMostOneHundredProfilesThatTheSchemaAccepts() throws Exception {
        List<Delivery> batch = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            batch.add(delivery("user" + i + "@example.com", "email", "marketing", ConsentState.UNSUBSCRIBED));
        }
        FakeVendor vendor = new FakeVendor(r -> FakeVendor.status(202, ""));
        List<Outcome> outcomes = adapter.deliver(batch, vendor);
        assertEquals(2, vendor.calls.size());
        assertEquals(List.of(100, 50), vendor.calls.stream().map(c -> body(c).at("/data/attributes/profiles/data").size()).toList());
        for (VendorRequest call : vendor.calls) {
            assertEquals("https://vendor.example/api/profile-subscription-bulk-delete-jobs", call.url());
            assertEquals("Klaviyo-API-Key pk_live", call.headers().get("Authorization"));
            assertEquals("2026-07-15", call.headers().get("revision"));
            assertEquals(List.of(), ContractSchemas.violations(SCHEMAS + "bulk_unsubscribe_profiles.request.schema.json", body(call)));
            assertTrue(body(call).at("/data/relationships").isMissingNode(), "the marketing purpose is account-wide");
        }
        assertEquals(150, outcomes.stream().filter(o -> o.kind() == Outcome.Kind.DELIVERED).count());
    }

    @Test
    void subscribeCarriesTheConsentTimeAndSuppressionUsesTheSuppressionJob() {
        FakeVendor vendor = new FakeVendor(r -> FakeVendor.status(202, ""));
        adapter.deliver(List.of(delivery("a@example.com", "email", "marketing", ConsentState.SUBSCRIBED),
                delivery("b@example.com", "email", "marketing", ConsentState.SUPPRESSED)), vendor);
        assertEquals(2, vendor.calls.size());
        JsonNode subscribe = body(vendor.calls.get(0));
        assertEquals(List.of(), ContractSchemas.violations(SCHEMAS + "bulk_subscribe_profiles.request.schema.json", subscribe));
        assertTrue(subscribe.at("/data/attributes/historical_import").asBoolean());
        assertEquals("2026-11-20T14:30:00Z",
                subscribe.at("/data/attributes/profiles/data/0/attributes/subscriptions/email/marketing/consented_at").asText());
        JsonNode suppress = body(vendor.calls.get(1));
        assertEquals("https://vendor.example/api/profile-suppression-bulk-create-jobs", vendor.calls.get(1).url());
        assertEquals(List.of(), ContractSchemas.violations(SCHEMAS + "bulk_suppress_profiles.request.schema.json", suppress));
    }

    @Test
    void smsUnmappedPurposesAndNonMembersAreNeverSent() {
        FakeVendor vendor = new FakeVendor(r -> r.method().equals("GET")
                ? FakeVendor.status(200, "{\"data\":[]}")
                : FakeVendor.status(202, ""));
        List<Outcome> outcomes = adapter.deliver(List.of(
                delivery("sms@example.com", "sms", "marketing", ConsentState.UNSUBSCRIBED),
                delivery("promo@example.com", "email", "promotions", ConsentState.UNSUBSCRIBED),
                delivery("stranger@example.com", "email", "newsletter", ConsentState.UNSUBSCRIBED)), vendor);
        assertEquals(List.of("not-applicable", "purpose-not-mapped", "not-on-list"), outcomes.stream()
                .map(o -> o.detail().substring(0, o.detail().indexOf(':'))).toList());
        assertTrue(outcomes.stream().allMatch(o -> o.kind() == Outcome.Kind.SKIPPED));
        assertEquals(1, vendor.calls.size(), "only the membership lookup");
        assertTrue(vendor.calls.get(0).url().contains("/api/lists/Y6nRLr/profiles?filter="));
    }

    @Test
    void aRateLimitAnswerAsksTheLaneToWaitForTheReset() {
        FakeVendor vendor = new FakeVendor(r -> new VendorAnswer(429, Map.of("RateLimit-Reset", "9"), "", null, 1));
        Outcome outcome = adapter.deliver(List.of(delivery("a@example.com", "email", "marketing", ConsentState.UNSUBSCRIBED)),
                vendor).get(0);
        assertEquals(Outcome.Kind.RETRY, outcome.kind());
        assertEquals(Duration.ofSeconds(9), outcome.retryAfter());
    }

    @Test
    void aJobRefusedForOneBadProfileIsSentAgainOneByOneSoOnlyThatOneFails() {
        FakeVendor vendor = new FakeVendor(r -> r.bodyText().contains("bad@") ? FakeVendor.status(400,
                "{\"errors\":[{\"id\":\"1\",\"code\":\"invalid\",\"title\":\"Invalid\",\"detail\":\"bad email\"}]}")
                : FakeVendor.status(202, ""));
        List<Outcome> outcomes = adapter.deliver(List.of(delivery("a@example.com", "email", "marketing", ConsentState.UNSUBSCRIBED),
                delivery("bad@example", "email", "marketing", ConsentState.UNSUBSCRIBED),
                delivery("c@example.com", "email", "marketing", ConsentState.UNSUBSCRIBED)), vendor);
        assertEquals(4, vendor.calls.size(), "the job, then each profile alone");
        assertEquals(List.of(Outcome.Kind.DELIVERED, Outcome.Kind.FAILED, Outcome.Kind.DELIVERED),
                outcomes.stream().map(Outcome::kind).toList());
        assertTrue(outcomes.stream().noneMatch(o -> o.request().bodyText().contains("@example.com")
                && !o.request().bodyText().contains(o.delivery().email())), "each receipt holds its own profile only");
    }

    @Test
    void aMissingKeyStopsTheLaneWithTheKeyNamed() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new KlaviyoAdapter(FakeVendor.config("klaviyo", Map.of())));
        assertTrue(e.getMessage().contains("HUB_SYSTEMS_KLAVIYO_API_KEY"), e.getMessage());
    }

    static Delivery delivery(String email, String channel, String purpose, ConsentState state) {
        return new Delivery(1, "c", "klaviyo", Delivery.KIND_CONSENT, "h", channel, purpose, state, null, email, null,
                "shopify", java.time.Instant.parse("2026-11-20T14:30:00Z"), java.time.Instant.now(), 0);
    }

    static JsonNode body(VendorRequest request) {
        try {
            return Json.MAPPER.readTree(request.body());
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
