package io.handoff.hub.support;

import static io.restassured.RestAssured.given;

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
