package io.handoff.hub.intake.signed;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies Standard Webhooks signatures (symmetric {@code v1} scheme): the signed content is
 * {@code webhook-id + "." + webhook-timestamp + "." + raw body}, the key is the base64-decoded part of a
 * {@code whsec_} secret, and {@code webhook-signature} is a space-separated list of {@code v1,<base64>} entries of
 * which any one may match. Timestamps outside the tolerance (both directions) are rejected.
 */
public final class StandardWebhookVerifier {

    /** The tolerance of the reference libraries: 5 minutes into the past and into the future. */
    public static final Duration DEFAULT_TOLERANCE = Duration.ofMinutes(5);

    private static final String SECRET_PREFIX = "whsec_";

    private final List<byte[]> keys;
    private final Duration tolerance;

    /**
     * @param secrets accepted {@code whsec_} secrets (current and previous during a rotation); blank entries are skipped
     * @param tolerance accepted clock difference; {@code null} switches the timestamp check off (only for known-answer tests)
     * @throws IllegalArgumentException if no usable secret is given or one is malformed
     */
    public StandardWebhookVerifier(List<String> secrets, Duration tolerance) {
        List<byte[]> decoded = new ArrayList<>();
        for (String secret : secrets) {
            if (secret == null || secret.isBlank()) {
                continue;
            }
            decoded.add(decodeSecret(secret.strip()));
        }
        if (decoded.isEmpty()) {
            throw new IllegalArgumentException("no webhook secret configured");
        }
        this.keys = List.copyOf(decoded);
        this.tolerance = tolerance;
    }

    static byte[] decodeSecret(String secret) {
        String encoded = secret.startsWith(SECRET_PREFIX) ? secret.substring(SECRET_PREFIX.length()) : secret;
        if (encoded.isEmpty()) {
            throw new IllegalArgumentException("webhook secret is empty");
        }
        try {
            return Base64.getDecoder().decode(encoded);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("webhook secret is not base64 after the whsec_ prefix", e);
        }
    }

    /** Outcome of a verification; {@code reason} says why a delivery was refused. */
    public record Result(boolean valid, String reason) {
        static final Result OK = new Result(true, null);

        static Result refused(String reason) {
            return new Result(false, reason);
        }
    }

    public Result verify(String id, String timestamp, String signatureHeader, byte[] body, Instant now) {
        if (isBlank(id) || isBlank(timestamp) || isBlank(signatureHeader)) {
            return Result.refused("missing webhook-id, webhook-timestamp or webhook-signature header");
        }
        if (id.indexOf('.') >= 0 || timestamp.indexOf('.') >= 0) {
            return Result.refused("webhook-id and webhook-timestamp must not contain '.'");
        }
        long seconds;
        try {
            seconds = Long.parseLong(timestamp.strip());
        } catch (NumberFormatException e) {
            return Result.refused("webhook-timestamp is not an integer");
        }
        if (tolerance != null) {
            // Compared in seconds: Instant.ofEpochSecond would throw for values beyond its range.
            long difference = seconds - now.getEpochSecond();
            boolean overflowed = ((seconds ^ difference) & (now.getEpochSecond() ^ seconds)) < 0;
            if (overflowed || difference > tolerance.toSeconds() || difference < -tolerance.toSeconds()) {
                return Result.refused("webhook-timestamp outside the tolerance");
            }
        }
        byte[] prefix = (id + "." + timestamp.strip() + ".").getBytes(StandardCharsets.UTF_8);
        boolean matched = false;
        for (byte[] key : keys) {
            byte[] expected = hmac(key, prefix, body);
            for (String entry : signatureHeader.strip().split(" +")) {
                int comma = entry.indexOf(',');
                if (comma < 0 || !"v1".equals(entry.substring(0, comma))) {
                    continue;
                }
                byte[] presented;
                try {
                    presented = Base64.getDecoder().decode(entry.substring(comma + 1));
                } catch (IllegalArgumentException notBase64) {
                    continue;
                }
                matched |= MessageDigest.isEqual(expected, presented);
            }
        }
        return matched ? Result.OK : Result.refused("no matching signature");
    }

    /** The {@code webhook-signature} value a sender would put on this message, for tests and examples. */
    public static String sign(String secret, String id, long timestamp, byte[] body) {
        byte[] prefix = (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8);
        return "v1," + Base64.getEncoder().encodeToString(hmac(decodeSecret(secret), prefix, body));
    }

    private static byte[] hmac(byte[] key, byte[] prefix, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(prefix);
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
