package io.handoff.hub.propagation;

import java.time.Instant;
import java.util.UUID;

import io.handoff.hub.consent.ConsentState;

/** Deliveries for adapter tests. */
final class DeliveryFixtures {

    private DeliveryFixtures() {
    }

    static Delivery delivery(String channel, String purpose, ConsentState state) {
        return delivery("ann-" + UUID.randomUUID().toString().substring(0, 6) + "@example.com", channel, purpose, state);
    }

    static Delivery delivery(String email, String channel, String purpose, ConsentState state) {
        return new Delivery(Math.abs(UUID.randomUUID().getLeastSignificantBits() % 1_000_000), "change-1", "test",
                Delivery.KIND_CONSENT, UUID.randomUUID().toString(), channel, purpose, state, null, email, null,
                "shopify", Instant.parse("2026-11-20T14:30:00Z"), Instant.parse("2026-11-20T14:30:01Z"), 0);
    }
}
