package io.handoff.hub.reconciliation;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;

/**
 * Reads one system's suppression / opt-out list a page at a time through its real API. A page is addressed by an
 * opaque cursor (null: the first page) so that a page that failed is fetched again with the same cursor instead of
 * paging from the start. The {@link VendorClient} holds the system's read rate limit.
 */
public interface SuppressionPuller {

    /** The system's name, as in {@code hub.systems.<name>.*}. */
    String system();

    /**
     * Fetches the page at {@code cursor}.
     *
     * @throws PageFailed when the system did not answer with a page; the reconciliation retries the same cursor if
     *         {@link PageFailed#retryable()}
     */
    Page page(String cursor, VendorClient client) throws PageFailed;

    /**
     * A record's timestamp (RFC 3339), or null if it has none or an unreadable one: one odd record must not fail the
     * whole list (an undated suppression is taken as known when the list was read).
     */
    static Instant time(String text) {
        try {
            return io.handoff.hub.support.Json.instant(text);
        } catch (IllegalArgumentException unreadable) {
            return null;
        }
    }

    /**
     * One contact the system will not mail.
     *
     * @param email the address as the system holds it (normalised when staged)
     * @param systemId the system's own id for the contact, if it gave one
     * @param state {@code UNSUBSCRIBED} (an opt-out) or {@code SUPPRESSED} (bounce, complaint, invalid address, a
     *        suppression by the system's users)
     * @param reason the system's reason, lower-cased (e.g. {@code hard_bounce}), or null
     * @param at when the system suppressed or last changed the contact, or null if it does not say
     */
    record Suppressed(String email, String systemId, ConsentState state, String reason, Instant at) {
    }

    /**
     * @param contacts the page's suppressed contacts (contacts the page listed that are mailable are left out)
     * @param next the cursor of the next page, or null after the last page
     * @param listed how many records the page held before leaving out the mailable ones
     */
    record Page(List<Suppressed> contacts, String next, int listed) {
    }

    /** A page the system did not serve: its answer, and whether asking again may help. */
    class PageFailed extends Exception {

        private static final long serialVersionUID = 1L;
        private final transient VendorAnswer answer;
        private final transient Duration wait;
        private final boolean throttled;

        public PageFailed(VendorAnswer answer, String why) {
            this(answer, why, false, null);
        }

        /** A page refused for a rate limit the answer's status does not show (e.g. a GraphQL THROTTLED error). */
        public PageFailed(VendorAnswer answer, String why, boolean throttled, Duration wait) {
            super(why);
            this.answer = answer;
            this.throttled = throttled;
            this.wait = wait;
        }

        public VendorAnswer answer() {
            return answer;
        }

        /** No answer, 408, 425, 429, 5xx or a throttle: the same page is asked again after a pause. */
        public boolean retryable() {
            return throttled || (answer != null && answer.retryable());
        }

        /** How long the system asked us to wait (Retry-After, a throttle's restore time), if it said. */
        public Optional<Duration> requestedWait() {
            return Optional.ofNullable(wait).or(() -> answer == null ? Optional.empty()
                    : answer.retryAfter(Instant.now()));
        }

        /** Checks an answer: a page failure unless it is a 2xx. */
        public static void unlessSuccess(VendorAnswer answer, String what) throws PageFailed {
            if (!answer.success()) {
                throw new PageFailed(answer, what + " answered " + answer.summary());
            }
        }
    }
}
