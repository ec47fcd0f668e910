package io.handoff.hub.consent;

import java.util.Locale;
import java.util.Optional;

/** The ledger's consent states, from least to most restrictive. */
public enum ConsentState {
    SUBSCRIBED(1), UNSUBSCRIBED(2), SUPPRESSED(3);

    private final int restrictiveness;

    ConsentState(int restrictiveness) {
        this.restrictiveness = restrictiveness;
    }

    /** Higher is more restrictive: suppressed over unsubscribed over subscribed. */
    public int restrictiveness() {
        return restrictiveness;
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The ledger state of a canonical {@code state}; empty for {@code not_subscribed}, {@code pending} and
     * {@code unknown}, which report a source's status but are no consent decision.
     */
    public static Optional<ConsentState> fromWireName(String state) {
        if (state == null) {
            return Optional.empty();
        }
        return switch (state) {
            case "subscribed" -> Optional.of(SUBSCRIBED);
            case "unsubscribed" -> Optional.of(UNSUBSCRIBED);
            case "suppressed" -> Optional.of(SUPPRESSED);
            default -> Optional.empty();
        };
    }

    public static ConsentState mostRestrictive(ConsentState a, ConsentState b) {
        return a.restrictiveness >= b.restrictiveness ? a : b;
    }
}
