package io.handoff.hub.propagation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class BackoffTest {

    final Backoff backoff = new Backoff(Duration.ofSeconds(2), Duration.ofMinutes(10));

    @Test
    void doublesWithJitterUpToTheMaximum() {
        for (int attempt = 1; attempt <= 8; attempt++) {
            long base = 2000L << (attempt - 1);
            long wait = backoff.after(attempt).toMillis();
            assertTrue(wait >= base * 0.8 - 1 && wait <= base * 1.2 + 1, "attempt " + attempt + ": " + wait);
        }
        assertEquals(Duration.ofMinutes(10), backoff.after(40), "capped, even far out");
    }

    @Test
    void theVendorsLongerWaitWins() {
        assertEquals(Duration.ofSeconds(30), backoff.after(1, Duration.ofSeconds(30)));
        assertTrue(backoff.after(5, Duration.ofSeconds(1)).toMillis() >= 25_000, "a shorter request does not cut the backoff");
    }
}
