package io.handoff.hub.propagation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class VendorAnswerTest {

    static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");

    @Test
    void retryAfterInSecondsAsAnHttpDateOrAsRateLimitReset() {
        assertEquals(Optional.of(Duration.ofSeconds(7)), answer(429, Map.of("Retry-After", "7")).retryAfter(NOW));
        assertEquals(Optional.of(Duration.ofSeconds(30)),
                answer(503, Map.of("retry-after", "Mon, 23 Nov 2026 10:00:30 GMT")).retryAfter(NOW));
        assertEquals(Optional.of(Duration.ofSeconds(12)), answer(429, Map.of("RateLimit-Reset", "12")).retryAfter(NOW),
                "Klaviyo's reset header when there is no Retry-After");
        assertEquals(Optional.of(Duration.ZERO),
                answer(429, Map.of("Retry-After", "Mon, 23 Nov 2026 09:59:00 GMT")).retryAfter(NOW), "a date in the past");
        assertEquals(Optional.empty(), answer(429, Map.of("Retry-After", "soon")).retryAfter(NOW));
        assertEquals(Optional.empty(), answer(500, Map.of("Retry-After", "7")).retryAfter(NOW),
                "only 429 and 503 carry a wait the hub honours");
    }

    @Test
    void whatIsWorthRetrying() {
        for (int status : new int[] { 0, 408, 425, 429, 500, 502, 503, 504 }) {
            assertTrue(answer(status, Map.of()).retryable(), Integer.toString(status));
        }
        for (int status : new int[] { 400, 401, 403, 404, 409, 415, 422 }) {
            assertFalse(answer(status, Map.of()).retryable(), Integer.toString(status));
        }
    }

    @Test
    void outcomesFromPlainHttpAnswers() {
        Delivery d = DeliveryFixtures.delivery("email", "marketing", io.handoff.hub.consent.ConsentState.UNSUBSCRIBED);
        assertEquals(Outcome.Kind.DELIVERED, Outcome.of(d, null, answer(204, Map.of())).kind());
        Outcome throttled = Outcome.of(d, null, answer(429, Map.of("Retry-After", "2")));
        assertEquals(Outcome.Kind.RETRY, throttled.kind());
        assertTrue(throttled.retryAfter().compareTo(Duration.ofMillis(1900)) > 0);
        Outcome refused = Outcome.of(d, null, new VendorAnswer(400, Map.of(), "{\"errors\":[{\"detail\":\"bad email\"}]}", null, 3));
        assertEquals(Outcome.Kind.FAILED, refused.kind());
        assertTrue(refused.detail().contains("bad email"), refused.detail());
        assertEquals(Outcome.Kind.RETRY, Outcome.of(d, null, VendorAnswer.failure("ConnectException: refused", 1)).kind());
    }

    static VendorAnswer answer(int status, Map<String, String> headers) {
        return new VendorAnswer(status, headers, "", status == 0 ? "no answer" : null, 1);
    }
}
