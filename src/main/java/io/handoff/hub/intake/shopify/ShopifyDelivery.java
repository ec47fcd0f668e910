package io.handoff.hub.intake.shopify;

/**
 * The delivery headers of a verified Shopify webhook that the mapping needs.
 *
 * @param topic {@code X-Shopify-Topic}, e.g. {@code customers_email_marketing_consent/update}
 * @param webhookId {@code X-Shopify-Webhook-Id}, the same on every retry of one delivery
 * @param shopDomain {@code X-Shopify-Shop-Domain}
 * @param apiVersion {@code X-Shopify-API-Version}
 * @param triggeredAt {@code X-Shopify-Triggered-At}, may be null
 * @param eventId {@code X-Shopify-Event-Id}, shared by the deliveries of one merchant action, may be null
 */
public record ShopifyDelivery(String topic, String webhookId, String shopDomain, String apiVersion, String triggeredAt,
        String eventId) {

    /** A verified Shopify delivery's canonical event, fired (CDI) before it is published. */
    public record Accepted(io.handoff.hub.event.CanonicalEvent event) {
    }
}
