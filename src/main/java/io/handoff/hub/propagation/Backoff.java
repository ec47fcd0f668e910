package io.handoff.hub.propagation;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with jitter: {@code initial * 2^(attempt-1)}, +-20%, at most {@code max}. */
public record Backoff(Duration initial, Duration max) {

    /** The wait after the {@code attempt}-th failed call (1-based). */
    public Duration after(int attempt) {
        double base = initial.toMillis() * Math.pow(2, Math.min(30, Math.max(0, attempt - 1)));
        double jittered = base * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble());
        return Duration.ofMillis((long) Math.min(max.toMillis(), jittered));
    }

    /** The vendor's requested wait if it gave one and it is longer, else the backoff. */
    public Duration after(int attempt, Duration requested) {
        Duration backoff = after(attempt);
        return requested != null && requested.compareTo(backoff) > 0 ? requested : backoff;
    }
}
