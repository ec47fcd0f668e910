package io.handoff.hub.event;

import java.util.Arrays;
import java.util.Optional;

/**
 * The canonical event types, their CloudEvents {@code type} string and the domain (Kafka topic group) they go to.
 * The JSON schema of each type's {@code data} is in {@code src/main/resources/schemas/canonical-webhook.schema.json}.
 */
public enum EventType {
    CONSENT_CHANGED("consent.changed", Domain.CONSENT),
    CUSTOMER_CREATED("customer.created", Domain.CUSTOMER),
    CUSTOMER_UPDATED("customer.updated", Domain.CUSTOMER),
    CUSTOMER_MERGED("customer.merged", Domain.CUSTOMER),
    ADDRESS_VALIDATED("address.validated", Domain.ADDRESS),
    ORDER_PLACED("order.placed", Domain.ORDER),
    INVENTORY_CHANGED("inventory.changed", Domain.INVENTORY),
    LOYALTY_TIER_CHANGED("loyalty.tier.changed", Domain.LOYALTY),
    PROMOTION_ELIGIBILITY_CHANGED("promotion.eligibility.changed", Domain.PROMOTION),
    WAITLIST_JOINED("waitlist.joined", Domain.WAITLIST),
    FEED_SYNCED("feed.synced", Domain.FEED),
    /** Published by the consent ledger for every change of a customer's consent (keyed by hub id). */
    CONSENT_APPLIED("consent.applied", Domain.LEDGER),
    /** Published by the identity flow when a merge re-pointed a customer's ids to a survivor. */
    CUSTOMER_MERGE_APPLIED("customer.merge.applied", Domain.LEDGER);

    private final String wireName;
    private final Domain domain;

    EventType(String wireName, Domain domain) {
        this.wireName = wireName;
        this.domain = domain;
    }

    /** The CloudEvents {@code type} attribute, e.g. {@code consent.changed}. */
    public String wireName() {
        return wireName;
    }

    public Domain domain() {
        return domain;
    }

    public static Optional<EventType> fromWireName(String wireName) {
        return Arrays.stream(values()).filter(t -> t.wireName.equals(wireName)).findFirst();
    }

    /** Topic groups: each domain has its own Kafka topic ({@code hub.kafka.topics.<domain>}). */
    public enum Domain {
        CONSENT, CUSTOMER, ADDRESS, ORDER, INVENTORY, LOYALTY, PROMOTION, WAITLIST, FEED, LEDGER
    }
}
