package io.handoff.hub.propagation;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A vendor's request quota as fixed windows, the way Klaviyo documents it: at most {@code perSecond} calls in any
 * second (burst) and {@code perMinute} in any minute (steady). {@link #reserve(long)} says how long a caller must
 * wait before its next call; {@link #acquire()} waits that long. One lane (one thread) uses one limiter; replicas each
 * use their own share, so set the limits per replica ({@code hub.systems.<name>.rate-limit.*}).
 */
public final class RateLimiter {

    private final int perSecond;
    private final int perMinute;
    private final Deque<Long> lastSecond = new ArrayDeque<>();
    private final Deque<Long> lastMinute = new ArrayDeque<>();

    /** @param perSecond 0 for no burst limit; @param perMinute 0 for no steady limit */
    public RateLimiter(int perSecond, int perMinute) {
        this.perSecond = perSecond;
        this.perMinute = perMinute;
    }

    /** Records a call at {@code nowNanos} if the quota allows one; otherwise returns how long to wait first. */
    public synchronized Duration reserve(long nowNanos) {
        evict(lastSecond, nowNanos, Duration.ofSeconds(1).toNanos());
        evict(lastMinute, nowNanos, Duration.ofMinutes(1).toNanos());
        long wait = 0;
        if (perSecond > 0 && lastSecond.size() >= perSecond) {
            wait = Math.max(wait, lastSecond.peekFirst() + Duration.ofSeconds(1).toNanos() - nowNanos);
        }
        if (perMinute > 0 && lastMinute.size() >= perMinute) {
            wait = Math.max(wait, lastMinute.peekFirst() + Duration.ofMinutes(1).toNanos() - nowNanos);
        }
        if (wait > 0) {
            return Duration.ofNanos(wait);
        }
        if (perSecond > 0) {
            lastSecond.addLast(nowNanos);
        }
        if (perMinute > 0) {
            lastMinute.addLast(nowNanos);
        }
        return Duration.ZERO;
    }

    /** Waits until the quota allows one more call, and records it. */
    public void acquire() throws InterruptedException {
        for (Duration wait = reserve(System.nanoTime()); !wait.isZero(); wait = reserve(System.nanoTime())) {
            Thread.sleep(Math.max(1, wait.toMillis()));
        }
    }

    private static void evict(Deque<Long> window, long now, long length) {
        while (!window.isEmpty() && window.peekFirst() <= now - length) {
            window.removeFirst();
        }
    }
}
