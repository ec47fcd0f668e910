package io.handoff.hub.sandbox;

import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.handoff.hub.kafka.KafkaSettings;

/**
 * The sandbox switch. On, the hub also serves simulated Klaviyo, Salesforce, HubSpot, Shopify, loyalty and Amazon
 * (SP-API Orders) APIs under {@code /sandbox/<system>} and wires them as the base URL of every system that has none of
 * its own (the subscribers, and the Amazon orders poller; Amazon is no subscriber: it has no adapter or route). It is
 * on by default when the hub runs on its embedded Kafka (the one-command start) and off when it is pointed at a
 * Kafka cluster (production); {@code hub.sandbox.enabled} (env {@code HUB_SANDBOX_ENABLED}) decides either way.
 */
@ApplicationScoped
public class SandboxSettings {

    /** The systems the sandbox simulates. */
    public static final Set<String> SYSTEMS = Set.of("klaviyo", "salesforce", "hubspot", "shopify", "loyalty", "amazon");

    private final boolean enabled;
    private final String baseUrl;

    public SandboxSettings(KafkaSettings kafka,
            // Serve the simulated vendor APIs and use them as subscribers; default: on with the embedded Kafka only.
            @ConfigProperty(name = "hub.sandbox.enabled") Optional<Boolean> enabled,
            // Where the hub reaches its own sandbox (its HTTP port on the loopback interface).
            @ConfigProperty(name = "hub.sandbox.base-url", defaultValue = "http://127.0.0.1:8080/sandbox") String baseUrl) {
        this.enabled = enabled.orElseGet(() -> kafka.embeddedBroker());
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    }

    public boolean enabled() {
        return enabled;
    }

    /** The base URL of a simulated system, if the sandbox is on and simulates it. */
    public Optional<String> baseUrl(String system) {
        return enabled && SYSTEMS.contains(system) ? Optional.of(baseUrl + "/" + system) : Optional.empty();
    }
}
