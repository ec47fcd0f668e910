package io.handoff.hub.intake;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.handoff.hub.intake.shopify.ShopifySignatureVerifier;
import io.handoff.hub.support.Fixtures;

class ShopifySignatureVerifierTest {

    private final JsonNode vectors = Fixtures.json("shopify/hmac-test-vectors.json").get("published_vectors");

    @Test
    void publishedValidVectorsVerify() {
        int checked = 0;
        for (JsonNode vector : vectors) {
            if (!"valid".equals(vector.path("expected").asText())) {
                continue;
            }
            byte[] body = vector.get("body").asText().getBytes(UTF_8);
            String secret = vector.get("secret").asText();
            String hmac = vector.get("hmac_base64").asText();
            assertTrue(ShopifySignatureVerifier.verify(List.of(secret), body, hmac), vector.get("id").asText());
            assertEquals(hmac, ShopifySignatureVerifier.sign(secret, body), vector.get("id").asText());
            checked++;
        }
        assertEquals(2, checked, "both published valid vectors were checked");
    }

    @Test
    void publishedInvalidVectorsAreRefused() {
        int checked = 0;
        for (JsonNode vector : vectors) {
            if (!vector.path("expected").asText().startsWith("invalid")) {
                continue;
            }
            byte[] body = vector.get("body").asText().getBytes(UTF_8);
            assertFalse(ShopifySignatureVerifier.verify(List.of(vector.get("secret").asText()), body,
                    vector.get("hmac_base64").asText()), vector.get("id").asText());
            checked++;
        }
        assertEquals(2, checked, "'fake' and 'whoops_this_is_wrong' were checked");
    }

    @Test
    void computedRubyVectorAndTrailingNewlineAreAccepted() {
        byte[] body = "{}".getBytes(UTF_8);
        String hmac = "+ihUB5l+D7QrohDEi/6NcBcJRyKssyWqos13LmnsBbs=";
        assertTrue(ShopifySignatureVerifier.verify(List.of("API_SECRET_KEY"), body, hmac));
        // Ruby's Base64.encode64 ends the value with a newline.
        assertTrue(ShopifySignatureVerifier.verify(List.of("API_SECRET_KEY"), body, hmac + "\n"));
    }

    @Test
    void previousSecretIsAcceptedDuringRotation() {
        byte[] body = "{\"foo\": \"bar\"}".getBytes(UTF_8);
        String signedWithOld = ShopifySignatureVerifier.sign("old", body);
        assertTrue(ShopifySignatureVerifier.verify(List.of("new", "old"), body, signedWithOld));
        assertFalse(ShopifySignatureVerifier.verify(List.of("new"), body, signedWithOld));
    }

    @Test
    void oneChangedByteOrMissingHeaderIsRefused() {
        byte[] body = "{\"foo\": \"bar\"}".getBytes(UTF_8);
        String hmac = "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=";
        assertFalse(ShopifySignatureVerifier.verify(List.of("test_secret_key"), "{\"foo\":\"bar\"}".getBytes(UTF_8), hmac),
                "re-serialised JSON is not the signed body");
        assertFalse(ShopifySignatureVerifier.verify(List.of("test_secret_key"), body, null));
        assertFalse(ShopifySignatureVerifier.verify(List.of("test_secret_key"), body, ""));
        assertFalse(ShopifySignatureVerifier.verify(List.of(""), body, hmac), "a blank secret verifies nothing");
    }
}
