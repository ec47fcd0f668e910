package io.handoff.hub.propagation;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * How every propagation lane retries, batches and times out ({@code hub.propagation.*}). Per system,
 * {@code hub.systems.<name>.rate-limit.per-second / per-minute}, {@code .batch-size} and {@code .response-timeout-ms}
 * override or add to these.
 */
@ConfigMapping(prefix = "hub.propagation")
public interface LaneSettings {

    /** Run the lanes at all (switch off on a replica that should only take webhooks). */
    @WithDefault("true")
    boolean enabled();

    /** Calls a delivery gets before it is parked on the dead-letter topic. */
    @WithDefault("10")
    int maxAttempts();

    /** Wait before the second call; doubled after each further failure (with +-20% jitter), in milliseconds. */
    @WithDefault("2000")
    long initialBackoffMs();

    /** Longest wait between two calls of one delivery, in milliseconds. */
    @WithDefault("600000")
    long maxBackoffMs();

    /** Deliveries a lane takes from its queue at a time (adapters that batch send them in one call). */
    @WithDefault("50")
    int batchSize();

    /** How often an idle lane looks for work planned on another replica or due for a retry, in milliseconds. */
    @WithDefault("500")
    long pollIntervalMs();

    /**
     * How long a claimed delivery belongs to its lane before another replica may take it over, in milliseconds. The
     * lane renews its claim every third of this while it works on the batch, so this bounds how long the deliveries
     * in flight on a replica that died (SIGKILL, lost node) wait before another replica, or the restarted one, sends
     * them again.
     */
    @WithDefault("60000")
    long claimTtlMs();

    /** Connect timeout of vendor calls, in milliseconds. */
    @WithDefault("5000")
    long connectTimeoutMs();

    /** Time a vendor has to answer one call, in milliseconds (per system: hub.systems.<name>.response-timeout-ms). */
    @WithDefault("15000")
    long responseTimeoutMs();

    /** How long a lane keeps finishing its current batch when the hub shuts down, in milliseconds. */
    @WithDefault("20000")
    long shutdownGraceMs();
}
