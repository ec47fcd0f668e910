package io.handoff.hub.intake;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.handoff.hub.intake.signed.StandardWebhookVerifier;
import io.handoff.hub.support.Fixtures;

class StandardWebhookVerifierTest {

    private final JsonNode file = Fixtures.json("standard-webhooks/test-vectors.json");
    private final JsonNode known = file.get("published_vectors").get(0);
    private final String secret = known.get("secret").asText();
    private final String id = known.get("webhook-id").asText();
    private final String timestamp = known.get("webhook-timestamp").asText();
    private final byte[] body = known.get("body").asText().getBytes(UTF_8);
    private final String signature = known.get("expected_signature").asText();
    private final Instant sentAt = Instant.ofEpochSecond(Long.parseLong(timestamp));

    @Test
    void knownAnswerSignatureIsReproduced() {
        assertEquals("sign-known-answer", known.get("id").asText());
        assertEquals(signature, StandardWebhookVerifier.sign(secret, id, Long.parseLong(timestamp), body));
    }

    @Test
    void knownAnswerVerifiesWithToleranceOff() {
        var verifier = new StandardWebhookVerifier(List.of(secret), null);
        assertTrue(verifier.verify(id, timestamp, signature, body, Instant.now()).valid());
    }

    @Test
    void knownAnswerFrom2021IsRejectedWithToleranceOn() {
        var verifier = new StandardWebhookVerifier(List.of(secret), StandardWebhookVerifier.DEFAULT_TOLERANCE);
        var result = verifier.verify(id, timestamp, signature, body, Instant.now());
        assertFalse(result.valid());
        assertEquals("webhook-timestamp outside the tolerance", result.reason());
        assertTrue(verifier.verify(id, timestamp, signature, body, sentAt).valid(), "valid at its own send time");
    }

    @Test
    void computedThinPayloadVectorVerifies() {
        JsonNode computed = file.get("computed_vectors").get(0);
        var verifier = new StandardWebhookVerifier(List.of(computed.get("secret").asText()), null);
        assertTrue(verifier.verify(computed.get("webhook-id").asText(), computed.get("webhook-timestamp").asText(),
                computed.get("expected_signature").asText(), computed.get("body").asText().getBytes(UTF_8),
                Instant.now()).valid());
    }

    @Test
    void wrongAndPartialSignaturesAreRejected() {
        var verifier = new StandardWebhookVerifier(List.of(secret), StandardWebhookVerifier.DEFAULT_TOLERANCE);
        assertFalse(verifier.verify(id, timestamp, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", body, sentAt).valid());
        assertFalse(verifier.verify(id, timestamp, "v1,", body, sentAt).valid());
        assertFalse(verifier.verify(id, timestamp, signature.replace("v1,", "v2,"), body, sentAt).valid(),
                "only v1 entries are HMAC signatures");
    }

    @Test
    void anyMatchingEntryOfAMultiSignatureHeaderIsEnough() {
        var verifier = new StandardWebhookVerifier(List.of(secret), StandardWebhookVerifier.DEFAULT_TOLERANCE);
        String junk = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
        String header = junk + " v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " + signature + " " + junk;
        assertTrue(verifier.verify(id, timestamp, header, body, sentAt).valid());
    }

    @Test
    void missingHeadersAreRejected() {
        var verifier = new StandardWebhookVerifier(List.of(secret), StandardWebhookVerifier.DEFAULT_TOLERANCE);
        assertFalse(verifier.verify(null, timestamp, signature, body, sentAt).valid());
        assertFalse(verifier.verify(id, null, signature, body, sentAt).valid());
        assertFalse(verifier.verify(id, timestamp, null, body, sentAt).valid());
    }

    @Test
    void toleranceIsFiveMinutesBothWays() {
        var verifier = new StandardWebhookVerifier(List.of(secret), StandardWebhookVerifier.DEFAULT_TOLERANCE);
        Instant now = Instant.parse("2026-11-22T12:00:00Z");
        long old = now.minus(Duration.ofMinutes(5)).minusSeconds(1).getEpochSecond();
        long future = now.plus(Duration.ofMinutes(5)).plusSeconds(1).getEpochSecond();
        long recent = now.minus(Duration.ofMinutes(4)).getEpochSecond();
        assertFalse(verifier.verify(id, Long.toString(old), StandardWebhookVerifier.sign(secret, id, old, body), body, now)
                .valid(), "older than 5 minutes");
        assertFalse(verifier.verify(id, Long.toString(future), StandardWebhookVerifier.sign(secret, id, future, body),
                body, now).valid(), "more than 5 minutes ahead");
        assertTrue(verifier.verify(id, Long.toString(recent), StandardWebhookVerifier.sign(secret, id, recent, body),
                body, now).valid());
    }

    @Test
    void previousSecretIsAcceptedDuringRotation() {
        String previous = "whsec_cHJldmlvdXMtc2VjcmV0LWZvci1yb3RhdGlvbg==";
        var verifier = new StandardWebhookVerifier(List.of(secret, previous), StandardWebhookVerifier.DEFAULT_TOLERANCE);
        String signedWithPrevious = StandardWebhookVerifier.sign(previous, id, sentAt.getEpochSecond(), body);
        assertTrue(verifier.verify(id, timestamp, signedWithPrevious, body, sentAt).valid());
    }

    @Test
    void emptySecretsAreRefusedAtConstruction() {
        assertThrows(IllegalArgumentException.class, () -> new StandardWebhookVerifier(List.of(""), null));
        assertThrows(IllegalArgumentException.class, () -> new StandardWebhookVerifier(List.of("whsec_"), null));
    }

    @Test
    void timestampsBeyondTheRangeOfTimeAreRefusedNotThrown() {
        var verifier = new StandardWebhookVerifier(List.of(secret), StandardWebhookVerifier.DEFAULT_TOLERANCE);
        for (String huge : List.of("99999999999999999", "-9223372036854775808", "9223372036854775807")) {
            var result = verifier.verify(id, huge, signature, body, Instant.now());
            assertFalse(result.valid(), huge);
            assertEquals("webhook-timestamp outside the tolerance", result.reason(), huge);
        }
    }
}
