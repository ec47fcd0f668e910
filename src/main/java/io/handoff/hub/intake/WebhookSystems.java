package io.handoff.hub.intake;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.Config;

import io.handoff.hub.intake.shopify.ShopifyEventMapper;
import io.handoff.hub.intake.signed.StandardWebhookVerifier;

/**
 * The systems allowed to call the hub's webhooks, read from configuration:
 * <ul>
 * <li>{@code hub.systems.<name>.webhook-secret} (env {@code HUB_SYSTEMS_<NAME>_WEBHOOK_SECRET}): the signing secret.
 * For {@code shopify} the app's client secret; for every other system a Standard Webhooks {@code whsec_} secret.
 * A system without a secret does not exist for the intake (404).</li>
 * <li>{@code hub.systems.<name>.previous-webhook-secret}: the secret being rotated out, accepted as well until it is
 * removed.</li>
 * </ul>
 * Names are lowercase letters, digits and dashes; secrets are looked up by name, so a new system needs only its
 * environment variables.
 */
@ApplicationScoped
public class WebhookSystems {

    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private final Config config;
    private final Map<List<String>, StandardWebhookVerifier> verifiers = new ConcurrentHashMap<>();

    public WebhookSystems(Config config) {
        this.config = config;
    }

    /** The accepted secrets of a system, current first; empty if the system has no webhook secret. */
    public List<String> secrets(String system) {
        if (system == null || !NAME.matcher(system).matches()) {
            return List.of();
        }
        Optional<String> current = value("hub.systems." + system + ".webhook-secret");
        if (current.isEmpty()) {
            return List.of();
        }
        return Stream.concat(current.stream(), value("hub.systems." + system + ".previous-webhook-secret").stream())
                .toList();
    }

    /**
     * The Standard Webhooks verifier of a system, or empty if the system is unknown to the intake or is Shopify
     * (which signs its own way and has its own endpoint).
     *
     * @throws IllegalStateException if the configured secret is not a valid {@code whsec_} secret
     */
    public Optional<StandardWebhookVerifier> standardWebhookVerifier(String system) {
        if (ShopifyEventMapper.SYSTEM.equals(system)) {
            return Optional.empty();
        }
        List<String> secrets = secrets(system);
        if (secrets.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(verifiers.computeIfAbsent(secrets,
                    s -> new StandardWebhookVerifier(s, StandardWebhookVerifier.DEFAULT_TOLERANCE)));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("hub.systems." + system + ".webhook-secret is not a whsec_ secret", e);
        }
    }

    private Optional<String> value(String key) {
        return config.getOptionalValue(key, String.class).map(String::strip).filter(s -> !s.isEmpty());
    }
}
