package io.handoff.hub.reconciliation.pullers;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.apache.camel.Exchange;

import com.fasterxml.jackson.databind.JsonNode;

import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.adapters.Requests;
import io.handoff.hub.reconciliation.SuppressionPuller;
import io.handoff.hub.support.Json;

/**
 * A system connected in YAML only: each page is asked of {@code direct:puller-<system>}, a route made from the
 * {@code paged-puller} template (routes/paged-puller.yaml), which calls the system's list endpoint with the cursor and
 * records, as exchange properties, JSON pointers saying where the page's items, their fields and the next cursor are
 * ({@code hubItemsPointer}, {@code hubEmailPointer}, {@code hubIdPointer}, {@code hubOptInPointer},
 * {@code hubReasonPointer}, {@code hubTimePointer}, {@code hubNextPointer}). The route gets {@code hubBaseUrl},
 * {@code hubCredential} ({@code hub.systems.<system>.api-key}) and {@code hubCursor} (percent-encoded; empty on the
 * first page). An item whose opt-in flag is true is mailable and left out; a reason of {@value #DELIVERABILITY_TEXT}
 * makes it a suppression, anything else an opt-out.
 */
public class RoutePuller implements SuppressionPuller {

    public static final String ENDPOINT_PREFIX = "direct:puller-";
    static final String DELIVERABILITY_TEXT = "hard_bounce, invalid_email, invalid, spam_complaint, spam_report";
    static final Set<String> DELIVERABILITY = Set.of("hard_bounce", "invalid_email", "invalid", "spam_complaint",
            "spam_report");

    private final SystemConfig config;
    private final String endpoint;
    private final String credential;

    public RoutePuller(SystemConfig config) {
        this.config = config;
        this.endpoint = ENDPOINT_PREFIX + config.name();
        this.credential = config.optional("api-key").orElse(config.sandbox() ? "sandbox" : "");
    }

    @Override
    public String system() {
        return config.name();
    }

    @Override
    public Page page(String cursor, VendorClient client) throws PageFailed {
        Exchange[] done = new Exchange[1];
        VendorAnswer answer = client.send(endpoint, exchange -> {
            exchange.setProperty("hubBaseUrl", config.url(""));
            exchange.setProperty("hubCredential", credential);
            exchange.setProperty("hubCursor", cursor == null ? "" : URLEncoder.encode(cursor, StandardCharsets.UTF_8));
        }, result -> done[0] = result);
        PageFailed.unlessSuccess(answer, "page of " + config.name());
        JsonNode body = Requests.body(answer);
        JsonNode items = body.at(pointer(done[0], "hubItemsPointer"));
        if (!items.isArray()) {
            throw new PageFailed(answer, "the page holds no item array at " + pointer(done[0], "hubItemsPointer"));
        }
        String optIn = pointer(done[0], "hubOptInPointer");
        List<Suppressed> contacts = new ArrayList<>();
        for (JsonNode item : items) {
            String email = text(item, pointer(done[0], "hubEmailPointer"));
            if (email == null || (!optIn.isEmpty() && item.at(optIn).asBoolean(false))) {
                continue;
            }
            String reason = text(item, pointer(done[0], "hubReasonPointer"));
            reason = reason == null ? null : reason.toLowerCase(Locale.ROOT);
            String time = text(item, pointer(done[0], "hubTimePointer"));
            contacts.add(new Suppressed(email, text(item, pointer(done[0], "hubIdPointer")),
                    reason != null && DELIVERABILITY.contains(reason) ? ConsentState.SUPPRESSED
                            : ConsentState.UNSUBSCRIBED,
                    reason, SuppressionPuller.time(time)));
        }
        String next = text(body, pointer(done[0], "hubNextPointer"));
        return new Page(contacts, next, items.size());
    }

    /** A JSON pointer the route recorded as an exchange property ("" when it set none). */
    public static String pointer(Exchange done, String property) {
        String p = done == null ? null : done.getProperty(property, String.class);
        return p == null ? "" : p;
    }

    /** The text at a JSON pointer, or null for an empty pointer, a missing, null or blank value. */
    public static String text(JsonNode node, String pointer) {
        if (pointer.isEmpty()) {
            return null;
        }
        JsonNode value = node.at(pointer);
        return value.isMissingNode() || value.isNull() || value.asText().isBlank() ? null : value.asText();
    }
}
