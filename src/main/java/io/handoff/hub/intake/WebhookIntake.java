package io.handoff.hub.intake;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.intake.shopify.ShopifyDelivery;
import io.handoff.hub.intake.shopify.ShopifyEventMapper;
import io.handoff.hub.intake.shopify.ShopifySignatureVerifier;
import io.handoff.hub.intake.signed.CanonicalWebhookMapper;
import io.handoff.hub.intake.signed.StandardWebhookVerifier;

/**
 * The checks and mapping of the webhook routes, in the order they run: request shape (size, media type), signature,
 * delivery headers, payload. Each step either passes or throws {@link WebhookRejectedException}; the routes'
 * {@code webhook-errors} configuration turns that into the 4xx answer. On success the exchange carries the canonical
 * event (or none, for a topic the hub does not map) and the delivery's idempotency key.
 */
@ApplicationScoped
@Named("webhookIntake")
public class WebhookIntake {

    private static final Logger LOG = Logger.getLogger(WebhookIntake.class);

    /** Shopify headers, as Shopify sends them; each is also accepted without the {@code X-} prefix. */
    static final String SHOPIFY_HMAC = "X-Shopify-Hmac-Sha256";
    static final String SHOPIFY_TOPIC = "X-Shopify-Topic";
    static final String SHOPIFY_WEBHOOK_ID = "X-Shopify-Webhook-Id";
    static final String SHOPIFY_SHOP_DOMAIN = "X-Shopify-Shop-Domain";
    static final String SHOPIFY_API_VERSION = "X-Shopify-API-Version";
    static final String SHOPIFY_TRIGGERED_AT = "X-Shopify-Triggered-At";
    static final String SHOPIFY_EVENT_ID = "X-Shopify-Event-Id";

    static final int MAX_DELIVERY_ID_LENGTH = 190;

    private final WebhookSystems systems;
    private final ShopifyEventMapper shopifyMapper;
    private final CanonicalWebhookMapper canonicalMapper;
    private final long maxBodyBytes;
    private final Clock clock;
    private final Event<ShopifyDelivery.Accepted> accepted;

    public WebhookIntake(WebhookSystems systems, ShopifyEventMapper shopifyMapper,
            CanonicalWebhookMapper canonicalMapper,
            // Largest webhook body accepted, in bytes; larger deliveries get 413.
            @ConfigProperty(name = "hub.intake.max-body-bytes", defaultValue = "1048576") long maxBodyBytes,
            Event<ShopifyDelivery.Accepted> accepted) {
        this.accepted = accepted;
        this.systems = systems;
        this.shopifyMapper = shopifyMapper;
        this.canonicalMapper = canonicalMapper;
        this.maxBodyBytes = maxBodyBytes;
        this.clock = Clock.systemUTC();
    }

    /** Shopify: size and media type, HMAC over the raw body, required headers, then the mapping. */
    public void shopify(Exchange exchange) {
        String system = ShopifyEventMapper.SYSTEM;
        exchange.setProperty(IntakeExchange.SYSTEM, system);
        Message in = exchange.getMessage();
        byte[] body = checkShape(in);
        List<String> secrets = systems.secrets(system);
        if (secrets.isEmpty()) {
            throw new WebhookRejectedException(404, "unknown_system",
                    "no webhook secret configured for system " + system);
        }
        if (!ShopifySignatureVerifier.verify(secrets, body, shopifyHeader(in, SHOPIFY_HMAC))) {
            LOG.debugf("shopify delivery refused: HMAC does not match");
            throw WebhookRejectedException.unauthorized("X-Shopify-Hmac-Sha256 is missing or does not match the body");
        }
        List<String> missing = missingShopifyHeaders(in);
        if (!missing.isEmpty()) {
            throw WebhookRejectedException.badRequest("missing_header",
                    "required Shopify headers missing or empty: " + String.join(", ", missing));
        }
        ShopifyDelivery delivery = new ShopifyDelivery(
                shopifyHeader(in, SHOPIFY_TOPIC),
                shopifyHeader(in, SHOPIFY_WEBHOOK_ID),
                shopifyHeader(in, SHOPIFY_SHOP_DOMAIN),
                shopifyHeader(in, SHOPIFY_API_VERSION),
                shopifyHeader(in, SHOPIFY_TRIGGERED_AT),
                shopifyHeader(in, SHOPIFY_EVENT_ID));
        // X-Shopify-Topic is not covered by the HMAC: unknown values share one label so replays cannot add labels.
        exchange.setProperty(IntakeExchange.TOPIC_LABEL,
                ShopifyEventMapper.MAPPED_TOPICS.contains(delivery.topic()) ? delivery.topic() : "other");
        checkDeliveryId(delivery.webhookId());
        Instant receivedAt = receivedAt(exchange);
        Optional<CanonicalEvent> event = shopifyMapper.map(delivery, body, receivedAt);
        // Observers: the sandbox's simulated shop learns what the real shop would hold.
        event.ifPresent(e -> accepted.fire(new ShopifyDelivery.Accepted(e)));
        exchange.setProperty(IntakeExchange.DELIVERY_KEY, system + ":" + delivery.webhookId());
        in.setBody(event.orElse(null));
    }

    /**
     * Any other system: Standard Webhooks signature, then the canonical payload. {@code /webhooks/shopify} matches this
     * route's {@code /webhooks/{system}} too: whichever of the two routes the HTTP router tries first, a Shopify
     * delivery is verified and mapped as Shopify's.
     */
    public void signed(Exchange exchange) {
        Message in = exchange.getMessage();
        String system = in.getHeader("system", String.class);
        if (ShopifyEventMapper.SYSTEM.equals(system)) {
            shopify(exchange);
            return;
        }
        Optional<StandardWebhookVerifier> verifier = systems.standardWebhookVerifier(system);
        if (verifier.isEmpty()) {
            throw new WebhookRejectedException(404, "unknown_system", "no webhook intake configured for this system");
        }
        exchange.setProperty(IntakeExchange.SYSTEM, system);
        byte[] body = checkShape(in);
        String id = in.getHeader("webhook-id", String.class);
        StandardWebhookVerifier.Result result = verifier.get().verify(id, in.getHeader("webhook-timestamp", String.class),
                in.getHeader("webhook-signature", String.class), body, clock.instant());
        if (!result.valid()) {
            LOG.debugf("delivery from %s refused: %s", system, result.reason());
            throw WebhookRejectedException.unauthorized(result.reason());
        }
        checkDeliveryId(id.strip());
        CanonicalEvent event = canonicalMapper.map(system, id.strip(), body, receivedAt(exchange));
        exchange.setProperty(IntakeExchange.TOPIC_LABEL, event.type().wireName());
        exchange.setProperty(IntakeExchange.DELIVERY_KEY, system + ":" + id.strip());
        in.setBody(event);
    }

    /** Delivery ids are stored as idempotency keys (255 characters with the system name). */
    private static void checkDeliveryId(String id) {
        if (id.length() > MAX_DELIVERY_ID_LENGTH) {
            throw WebhookRejectedException.badRequest("invalid_header",
                    "the delivery id is longer than " + MAX_DELIVERY_ID_LENGTH + " characters");
        }
    }

    private Instant receivedAt(Exchange exchange) {
        Instant receivedAt = exchange.getProperty(IntakeExchange.RECEIVED_AT, Instant.class);
        if (receivedAt == null) {
            receivedAt = clock.instant();
            exchange.setProperty(IntakeExchange.RECEIVED_AT, receivedAt);
        }
        return receivedAt;
    }

    /** 413 above the body limit, 415 unless the body is declared JSON; returns the raw body bytes. */
    private byte[] checkShape(Message in) {
        Long declaredLength = in.getHeader("Content-Length", Long.class);
        if (declaredLength != null && declaredLength > maxBodyBytes) {
            throw tooLarge();
        }
        String contentType = in.getHeader("Content-Type", String.class);
        if (!isJson(contentType)) {
            throw new WebhookRejectedException(415, "unsupported_media_type",
                    "Content-Type must be application/json");
        }
        byte[] body = in.getBody(byte[].class);
        if (body == null) {
            body = new byte[0];
        }
        if (body.length > maxBodyBytes) {
            throw tooLarge();
        }
        if (body.length == 0) {
            throw WebhookRejectedException.badRequest("empty_body", "the request has no body");
        }
        return body;
    }

    private WebhookRejectedException tooLarge() {
        return new WebhookRejectedException(413, "payload_too_large",
                "body is larger than the limit of " + maxBodyBytes + " bytes");
    }

    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        String mediaType = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        return mediaType.equals("application/json") || (mediaType.startsWith("application/") && mediaType.endsWith("+json"));
    }

    /** A Shopify header by its documented name or without the {@code X-} prefix (header names are case-insensitive). */
    static String shopifyHeader(Message in, String name) {
        String value = in.getHeader(name, String.class);
        if (value == null || value.isBlank()) {
            value = in.getHeader(name.substring(2), String.class);
        }
        return value == null || value.isBlank() ? null : value.strip();
    }

    /** The headers Shopify always sends (besides the HMAC) that are missing or empty on a request. */
    static List<String> missingShopifyHeaders(Message in) {
        List<String> missing = new ArrayList<>();
        for (String name : List.of(SHOPIFY_TOPIC, SHOPIFY_WEBHOOK_ID, SHOPIFY_SHOP_DOMAIN, SHOPIFY_API_VERSION)) {
            if (shopifyHeader(in, name) == null) {
                missing.add(name);
            }
        }
        return missing;
    }
}
