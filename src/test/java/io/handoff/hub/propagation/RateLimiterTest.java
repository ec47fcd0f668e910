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
    void steadyLimitPerMinuteHoldsWhenBurstsWouldAllowMore() {
        RateLimiter limiter = new RateLimiter(75, 750);
        long now = 0;
        int allowed = 0;
        for (int second = 0; second < 60; second++) {
            for (int call = 0; call < 75; call++) {
                if (limiter.reserve(now + second * SECOND + call).isZero()) {
                    allowed++;
                }
            }
        }
        assertEquals(750, allowed, "Klaviyo's 750/min caps what 75/s would allow");
        Duration wait = limiter.reserve(59 * SECOND + 100);
        assertTrue(wait.compareTo(Duration.ZERO) > 0 && wait.compareTo(Duration.ofSeconds(60)) <= 0, wait.toString());
    }

    @Test
    void noLimits() {
        RateLimiter limiter = new RateLimiter(0, 0);
        for (int i = 0; i < 10_000; i++) {
            assertEquals(Duration.ZERO, limiter.reserve(i));
        }
    }
}
