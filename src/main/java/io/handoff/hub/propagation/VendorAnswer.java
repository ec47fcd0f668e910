package io.handoff.hub.propagation;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A vendor's answer to a {@link VendorRequest}: the status and body, or the I/O error (connection refused, timeout)
 * that stood in for one. Header names are case-insensitive.
 *
 * @param status the HTTP status, or 0 when no answer arrived
 */
public record VendorAnswer(int status, Map<String, String> headers, String body, String error, long millis) {

    public VendorAnswer {
        TreeMap<String, String> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (headers != null) {
            copy.putAll(headers);
        }
        headers = copy;
    }

    public static VendorAnswer failure(String error, long millis) {
        return new VendorAnswer(0, Map.of(), null, error, millis);
    }

    public boolean success() {
        return status >= 200 && status < 300;
    }

    /**
     * Whether trying again later may succeed: no answer (connection refused, timeout), 408, 425, 429 and every 5xx.
     * Other 4xx answers say the request itself is wrong (or the credentials are), which no retry changes.
     */
    public boolean retryable() {
        return status == 0 || status == 408 || status == 425 || status == 429 || status >= 500;
    }

    public Optional<String> header(String name) {
        return Optional.ofNullable(headers.get(name));
    }

    /**
     * How long the vendor asked us to wait: {@code Retry-After} (seconds or an HTTP date), else
     * {@code RateLimit-Reset} (seconds, the IETF draft Klaviyo uses), on 429 and 503 answers only.
     */
    public Optional<Duration> retryAfter(Instant now) {
        if (status != 429 && status != 503) {
            return Optional.empty();
        }
        return header("Retry-After").flatMap(v -> parseRetryAfter(v, now))
                .or(() -> header("RateLimit-Reset").flatMap(VendorAnswer::seconds));
    }

    static Optional<Duration> parseRetryAfter(String value, Instant now) {
        Optional<Duration> seconds = seconds(value);
        if (seconds.isPresent()) {
            return seconds;
        }
        try {
            Instant at = ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            Duration wait = Duration.between(now, at);
            return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static Optional<Duration> seconds(String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        if (!v.matches("\\d{1,7}(\\.\\d{1,3})?")) {
            return Optional.empty();
        }
        return Optional.of(Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000)));
    }

    /** "503 Service Unavailable…" or the I/O error, for receipts and logs (never a credential). */
    public String summary() {
        if (status == 0) {
            return "no answer: " + error;
        }
        return Integer.toString(status);
    }
}
