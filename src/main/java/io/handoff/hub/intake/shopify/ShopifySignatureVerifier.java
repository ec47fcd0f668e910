package io.handoff.hub.intake.shopify;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies {@code X-Shopify-Hmac-Sha256}: base64 of HMAC-SHA256 over the raw body bytes, keyed with the app's
 * client secret. Accepts any of the given secrets (current and previous during a rotation), compares in constant
 * time and tolerates surrounding whitespace in the header value (Ruby's {@code Base64.encode64} appends a newline).
 */
public final class ShopifySignatureVerifier {

    private ShopifySignatureVerifier() {
    }

    /**
     * @param secrets the accepted secrets, current first; blank entries are skipped
     * @param body the raw request body exactly as received
     * @param headerValue the {@code X-Shopify-Hmac-Sha256} header value, may be null
     * @return true if the header matches the HMAC of the body under one of the secrets
     */
    public static boolean verify(List<String> secrets, byte[] body, String headerValue) {
        Objects.requireNonNull(body, "body");
        if (headerValue == null) {
            return false;
        }
        byte[] presented;
        try {
            presented = Base64.getDecoder().decode(headerValue.strip());
        } catch (IllegalArgumentException notBase64) {
            return false;
        }
        boolean matched = false;
        for (String secret : secrets) {
            if (secret == null || secret.isBlank()) {
                continue;
            }
            // No early exit: every configured secret is tried, so timing does not reveal which one matched.
            matched |= MessageDigest.isEqual(hmac(secret, body), presented);
        }
        return matched;
    }

    /** The base64 header value Shopify would send for this body, for tests and the README's example. */
    public static String sign(String secret, byte[] body) {
        return Base64.getEncoder().encodeToString(hmac(secret, body));
    }

    static byte[] hmac(String secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
