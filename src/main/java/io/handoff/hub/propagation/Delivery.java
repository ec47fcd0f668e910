package io.handoff.hub.propagation;

import java.time.Instant;

import io.handoff.hub.consent.ConsentState;

/**
 * One ledger change on its way to one subscriber system (a row of {@code delivery}): what the system must be told
 * (customer, channel, purpose, state), about which record ({@code email} / {@code systemId}), and how far it got.
 *
 * @param kind {@code consent} for a consent.applied change; {@code merge} for a merge notification to a record the
 *        merged customer held in that system (it gets the survivor's consent); {@code address} for an address
 *        write (channel {@code address}, purpose the field, no state, the address in {@code payload})
 * @param systemId the customer's id in the target system, if the hub knows it (null: adapters that need one look it up)
 * @param attempts calls already made for this delivery
 * @param payload what else the system must be told, as JSON (an address write's address); null for consent
 */
public record Delivery(long id, String changeId, String system, String kind, String hubId, String channel,
        String purpose, ConsentState state, String reason, String email, String systemId, String originSystem,
        Instant eventTime, Instant receivedAt, int attempts, String payload) {

    public static final String KIND_CONSENT = "consent";
    public static final String KIND_MERGE = "merge";
    public static final String KIND_ADDRESS = "address";

    /** A consent or merge delivery (no payload). */
    public Delivery(long id, String changeId, String system, String kind, String hubId, String channel,
            String purpose, ConsentState state, String reason, String email, String systemId, String originSystem,
            Instant eventTime, Instant receivedAt, int attempts) {
        this(id, changeId, system, kind, hubId, channel, purpose, state, reason, email, systemId, originSystem,
                eventTime, receivedAt, attempts, null);
    }

    public boolean isAddress() {
        return KIND_ADDRESS.equals(kind);
    }

    /** True when the customer may receive marketing on this channel and purpose. */
    public boolean optedIn() {
        return state == ConsentState.SUBSCRIBED;
    }
}
