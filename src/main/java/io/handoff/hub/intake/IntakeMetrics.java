package io.handoff.hub.intake;

import jakarta.enterprise.context.ApplicationScoped;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Counts webhook deliveries per system, topic and outcome ({@code handoff_webhooks_total} in Prometheus).
 * Topic labels are only ever set from verified deliveries or the hub's own type list, so a caller cannot inflate
 * the label set with made-up values.
 */
@ApplicationScoped
public class IntakeMetrics {

    public static final String WEBHOOKS = "handoff.webhooks";

    private final MeterRegistry registry;

    public IntakeMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void count(String system, String topic, Outcome outcome) {
        Counter.builder(WEBHOOKS)
                .description("Webhook deliveries by system, topic and outcome")
                .tag("system", system == null ? "unknown" : system)
                .tag("topic", topic == null ? "unknown" : topic)
                .tag("outcome", outcome.label())
                .register(registry)
                .increment();
    }

    /** What the hub answered. */
    public enum Outcome {
        ACCEPTED, DUPLICATE, IGNORED, INVALID_SIGNATURE, BAD_REQUEST, UNKNOWN_SYSTEM, TOO_LARGE, UNSUPPORTED_MEDIA_TYPE,
        UNAVAILABLE, FAILED;

        public String label() {
            return name().toLowerCase();
        }

        static Outcome forStatus(int status) {
            return switch (status) {
                case 401 -> INVALID_SIGNATURE;
                case 404 -> UNKNOWN_SYSTEM;
                case 413 -> TOO_LARGE;
                case 415 -> UNSUPPORTED_MEDIA_TYPE;
                default -> BAD_REQUEST;
            };
        }
    }
}
