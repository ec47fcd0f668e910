package io.handoff.hub.propagation;

import java.time.Duration;
import java.time.Instant;

/**
 * What one attempt did for one delivery, as an adapter reports it to its lane.
 *
 * @param request the call that decided it (null when no call was needed, e.g. skipped)
 * @param answer the vendor's answer to it (null when no call was made)
 * @param detail why, in words: the vendor's error, or the reason for a skip
 * @param retryAfter for {@link Kind#RETRY}: how long the vendor asked us to wait, if it said
 */
public record Outcome(Delivery delivery, Kind kind, VendorRequest request, VendorAnswer answer, String detail,
        Duration retryAfter) {

    public enum Kind {
        /** The system confirmed it. */
        DELIVERED,
        /** Nothing to send to this system (e.g. it holds no such customer); final. */
        SKIPPED,
        /** Failed in a way a later try may fix (no answer, 429, 5xx). */
        RETRY,
        /** Refused in a way no retry fixes (4xx); parked on the dead-letter topic at once. */
        FAILED
    }

    public static Outcome skipped(Delivery delivery, String why) {
        return new Outcome(delivery, Kind.SKIPPED, null, null, why, null);
    }

    public static Outcome failed(Delivery delivery, VendorRequest request, VendorAnswer answer, String why) {
        return new Outcome(delivery, Kind.FAILED, request, answer, why, null);
    }

    public static Outcome delivered(Delivery delivery, VendorRequest request, VendorAnswer answer) {
        return new Outcome(delivery, Kind.DELIVERED, request, answer, null, null);
    }

    public static Outcome retry(Delivery delivery, VendorRequest request, VendorAnswer answer, String why,
            Duration retryAfter) {
        return new Outcome(delivery, Kind.RETRY, request, answer, why, retryAfter);
    }

    /**
     * The plain HTTP reading of an answer: 2xx delivered; no answer, 408, 425, 429 and 5xx retried (honouring
     * {@code Retry-After} / {@code RateLimit-Reset}); any other status refused for good.
     */
    public static Outcome of(Delivery delivery, VendorRequest request, VendorAnswer answer) {
        if (answer.success()) {
            return delivered(delivery, request, answer);
        }
        String why = answer.status() == 0 ? answer.error() : "HTTP " + answer.status() + excerpt(answer.body());
        if (answer.retryable()) {
            return retry(delivery, request, answer, why, answer.retryAfter(Instant.now()).orElse(null));
        }
        return failed(delivery, request, answer, why);
    }

    static String excerpt(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String flat = body.strip().replaceAll("\\s+", " ");
        return ": " + (flat.length() > 300 ? flat.substring(0, 300) + "…" : flat);
    }
}
