package io.handoff.hub.support;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Email normalisation and the one-way forms of personal data that may appear in keys, subjects and logs.
 * No raw email or address is ever logged: use {@link #emailHash(String)}.
 */
public final class Pii {

    private Pii() {
    }

    /**
     * The hub's normal form of an email address: surrounding whitespace removed and lower-cased (ROOT locale, so a
     * Turkish default locale cannot turn {@code I} into a dotless i). Local parts are case-insensitive at every
     * mailbox provider retailers meet in practice, so lower-casing joins the same person's addresses.
     *
     * @return the normalised address, or null for null/blank input
     */
    public static String normaliseEmail(String email) {
        if (email == null || email.isBlank()) {
            return null;
        }
        return email.strip().toLowerCase(Locale.ROOT);
    }

    /** Hex SHA-256 of the normalised email: the Kafka key and log handle for a customer before identity resolution. */
    public static String emailHash(String email) {
        String normalised = normaliseEmail(email);
        if (normalised == null) {
            return null;
        }
        return sha256Hex(normalised);
    }

    public static String sha256Hex(String value) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
