package io.handoff.hub.propagation;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A vendor's request quota, as Klaviyo documents it: at most {@code perSecond} calls in any second (burst) and
 * {@code perMinute} in any minute (steady). The burst is a fixed one-second window; the steady limit is a token bucket
 * holding {@code perSecond} tokens (a tenth of the minute's quota without a burst limit) and refilled with the rest
 * of the minute's quota spread over 60 s, so no minute ever
 * sees more than {@code perMinute} calls and calls are spread over the minute instead of spending the whole quota in
 * the first seconds and then stalling. One lane (one thread) uses one limiter; each replica has its own, so set the
 * limits per replica ({@code hub.systems.<name>.rate-limit.*}).
 */
public final class RateLimiter {

    private static final long SECOND = 1_000_000_000L;

    private final int perSecond;
    private final double refillPerNano;
    private final double capacity;
    private final Deque<Long> lastSecond = new ArrayDeque<>();
    private double tokens;
    private long refilledAt = Long.MIN_VALUE;

    /** @param perSecond 0 for no burst limit; @param perMinute 0 for no steady limit */
    public RateLimiter(int perSecond, int perMinute) {
        this.perSecond = perSecond;
        // Any minute sees at most capacity + 60 s of refill = perMinute calls.
        this.capacity = perMinute <= 0 ? 0 : Math.max(1, perSecond > 0 ? Math.min(perSecond, perMinute) : perMinute / 10);
        this.refillPerNano = perMinute <= 0 ? 0 : Math.max(1, perMinute - capacity) / 60.0 / SECOND;
        this.tokens = capacity;
    }

    /** How long until the quota allows a call at {@code nowNanos}, without taking it. */
    public synchronized Duration nextSlot(long nowNanos) {
        refill(nowNanos);
        evict(nowNanos);
        long wait = 0;
        if (perSecond > 0 && lastSecond.size() >= perSecond) {
            wait = lastSecond.peekFirst() + SECOND - nowNanos;
        }
        if (refillPerNano > 0 && tokens < 1) {
            wait = Math.max(wait, (long) Math.ceil((1 - tokens) / refillPerNano));
        }
        return Duration.ofNanos(Math.max(0, wait));
    }

    /** Takes a call at {@code nowNanos} if the quota allows one and returns zero; otherwise how long to wait first. */
    public synchronized Duration reserve(long nowNanos) {
        Duration wait = nextSlot(nowNanos);
        if (!wait.isZero()) {
            return wait;
        }
        if (perSecond > 0) {
            lastSecond.addLast(nowNanos);
        }
        if (refillPerNano > 0) {
            tokens -= 1;
        }
        return Duration.ZERO;
    }

    /** Waits until the quota allows one more call, and takes it. */
    public void acquire() throws InterruptedException {
        for (Duration wait = reserve(System.nanoTime()); !wait.isZero(); wait = reserve(System.nanoTime())) {
            Thread.sleep(Math.max(1, wait.toMillis()));
        }
    }

    private void refill(long now) {
        if (refilledAt == Long.MIN_VALUE) {
            refilledAt = now;
        }
        if (refillPerNano > 0 && now > refilledAt) {
            tokens = Math.min(capacity, tokens + (now - refilledAt) * refillPerNano);
        }
        refilledAt = Math.max(refilledAt, now);
    }

    private void evict(long now) {
        while (!lastSecond.isEmpty() && lastSecond.peekFirst() <= now - SECOND) {
            lastSecond.removeFirst();
        }
    }
}
