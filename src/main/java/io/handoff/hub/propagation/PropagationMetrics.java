package io.handoff.hub.propagation;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Prometheus metrics of the lanes: {@code handoff_propagation_deliveries_total{system,outcome}} (delivered, skipped,
 * retried, failed) and {@code handoff_propagation_delay_seconds{system}}, the time from the hub's receipt of the
 * original webhook to the system's confirmation (with p50/p95/p99).
 */
@ApplicationScoped
public class PropagationMetrics {

    private final MeterRegistry registry;

    public PropagationMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void delivered(Delivery d, Duration delay) {
        outcome(d.system(), "delivered");
        Timer.builder("handoff.propagation.delay").description("webhook receipt to the system's confirmation")
                .tag("system", d.system()).publishPercentiles(0.5, 0.95, 0.99).register(registry)
                .record(delay.isNegative() ? Duration.ZERO : delay);
    }

    void outcome(String system, String outcome) {
        Counter.builder("handoff.propagation.deliveries").description("deliveries by system and outcome")
                .tag("system", system).tag("outcome", outcome).register(registry).increment();
    }
}
