package io.handoff.hub.support;

import static io.restassured.RestAssured.given;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import io.handoff.hub.intake.shopify.ShopifySignatureVerifier;
import io.handoff.hub.intake.signed.StandardWebhookVerifier;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

/** Builds webhook deliveries the way the platforms send them. */
public final class Webhooks {

    private Webhooks() {
    }

    /** The headers Shopify sends for a delivery of this topic and body, signed with the given secret. */
    public static Map<String, String> shopifyHeaders(String topic, String webhookId, byte[] body, String secret) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-Shopify-Topic", topic);
        headers.put("X-Shopify-Hmac-Sha256", ShopifySignatureVerifier.sign(secret, body));
        headers.put("X-Shopify-Shop-Domain", "handoff-test.myshopify.com");
        headers.put("X-Shopify-API-Version", "2026-07");
        headers.put("X-Shopify-Webhook-Id", webhookId);
        headers.put("X-Shopify-Triggered-At", "2025-07-10T16:15:47.000000Z");
        headers.put("X-Shopify-Event-Id", UUID.randomUUID().toString());
        return headers;
    }

    /** The Shopify topic of email-consent changes. */
    public static final String SHOPIFY_CONSENT_TOPIC = "customers_email_marketing_consent/update";

    /** A Shopify email-consent update: the customer's id and email, the new state, and when the customer chose. */
    public static byte[] shopifyConsent(long customerId, String email, String state, Instant at) {
        return ("{\"customer_id\":" + customerId + ",\"email_address\":\"" + email + "\",\"email_marketing_consent\":"
                + "{\"state\":\"" + state + "\",\"opt_in_level\":\"single_opt_in\",\"consent_updated_at\":\"" + at
                + "\"}}").getBytes(StandardCharsets.UTF_8);
    }

    /** A signed Shopify delivery to the hub at {@code baseUrl}, for a hub running as its own process. */
    public static HttpRequest shopifyRequest(String baseUrl, String topic, String webhookId, byte[] body,
            String secret) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + "/webhooks/shopify"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body));
        shopifyHeaders(topic, webhookId, body, secret).forEach(request::header);
        return request.build();
    }

    /** A signed Shopify delivery as the platform sends it, and sends it again: the same id, body and headers. */
    public record ShopifyDelivery(String webhookId, byte[] body, Map<String, String> headers) {

        /** Shopify's published email-consent sample as a new delivery (its own webhook id), with the test secret. */
        public static ShopifyDelivery consentSample() {
            byte[] body = Fixtures.shopifyPayload("customers_email_marketing_consent-update.json");
            String webhookId = UUID.randomUUID().toString();
            return new ShopifyDelivery(webhookId, body, shopifyHeaders(SHOPIFY_CONSENT_TOPIC, webhookId, body,
                    HubTestResource.SHOPIFY_SECRET));
        }

        public Response post() {
            return postShopify(headers, body);
        }
    }

    public static Response postShopify(Map<String, String> headers, byte[] body) {
        return given().contentType("application/json").headers(headers).body(body)
                .when().post("/webhooks/shopify");
    }

    /** A correctly signed Standard Webhooks delivery to /webhooks/{system}, sent now. */
    public static Response postSigned(String system, String secret, String webhookId, byte[] body) {
        long now = Instant.now().getEpochSecond();
        return signedRequest(webhookId, now, StandardWebhookVerifier.sign(secret, webhookId, now, body), body)
                .when().post("/webhooks/" + system);
    }

    public static RequestSpecification signedRequest(String webhookId, long timestamp, String signature, byte[] body) {
        return given().contentType("application/json")
                .header("webhook-id", webhookId)
                .header("webhook-timestamp", Long.toString(timestamp))
                .header("webhook-signature", signature)
                .body(body);
    }

    public static String newId() {
        return "msg_" + UUID.randomUUID().toString().replace("-", "");
    }
}
