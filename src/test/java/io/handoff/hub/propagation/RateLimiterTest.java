package io.handoff.hub.propagation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class RateLimiterTest {

    static final long SECOND = 1_000_000_000L;

    @Test
    void burstLimitPerSecond() {
        RateLimiter limiter = new RateLimiter(3, 0);
        for (int i = 0; i < 3; i++) {
            assertEquals(Duration.ZERO, limiter.reserve(i * 1000L));
        }
        Duration wait = limiter.reserve(5000L);
        assertEquals(Duration.ofNanos(SECOND - 5000L), wait, "the fourth call waits until the first leaves the second");
        assertEquals(Duration.ZERO, limiter.reserve(SECOND), "and is then allowed");
    }

    @Test
    void noMinuteSeesMoreThanTheSteadyLimitAndCallsAreSpreadOverIt() {
        RateLimiter limiter = new RateLimiter(75, 750);
        java.util.List<Long> calls = new java.util.ArrayList<>();
        // A caller that always wants more: offers a call every millisecond for three minutes.
        for (long t = 0; t < 180 * 1000; t++) {
            if (limiter.reserve(t * 1_000_000L).isZero()) {
                calls.add(t);
            }
        }
        for (int from = 0; from < calls.size(); from++) {
            long start = calls.get(from);
            long inMinute = calls.stream().filter(c -> c >= start && c < start + 60_000).count();
            assertTrue(inMinute <= 750, "calls in the minute from " + start + " ms: " + inMinute);
            long inSecond = calls.stream().filter(c -> c >= start && c < start + 1000).count();
            assertTrue(inSecond <= 75, "calls in the second from " + start + " ms: " + inSecond);
        }
        long lastMinute = calls.stream().filter(c -> c >= 120_000).count();
        assertTrue(lastMinute >= 650, "steady state uses most of Klaviyo's 750/min: " + lastMinute);
        assertTrue(limiter.nextSlot(180_000_000_000L).compareTo(Duration.ofMillis(100)) < 0,
                "after the burst, the next call waits about 1/11 s, not for the minute to end");
    }

    @Test
    void noLimits() {
        RateLimiter limiter = new RateLimiter(0, 0);
        for (int i = 0; i < 10_000; i++) {
            assertEquals(Duration.ZERO, limiter.reserve(i));
        }
    }
}
