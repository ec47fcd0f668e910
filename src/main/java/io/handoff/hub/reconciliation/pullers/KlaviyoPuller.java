package io.handoff.hub.reconciliation.pullers;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.adapters.KlaviyoAdapter;
import io.handoff.hub.propagation.adapters.Requests;
import io.handoff.hub.reconciliation.SuppressionPuller;
import io.handoff.hub.support.Json;

/**
 * Klaviyo's suppressed profiles: {@code GET /api/profiles?additional-fields[profile]=subscriptions} filtered by
 * {@code equals(subscriptions.email.marketing.suppression.reason,"<REASON>")}, one pass per reason of the
 * {@code EmailMarketingSuppression} enum, 100 profiles a page ({@code page[size]} maximum), following
 * {@code links.next} (cursor paging). A profile suppressed for several reasons is listed more than once; the staging
 * keeps it once. {@code UNSUBSCRIBE} is an opt-out; the other reasons are suppressions. The cursor is
 * {@code <reason index>|<next page URL>}.
 */
public class KlaviyoPuller implements SuppressionPuller {

    static final List<String> REASONS = List.of("HARD_BOUNCE", "INVALID_EMAIL", "SPAM_COMPLAINT", "UNSUBSCRIBE",
            "USER_SUPPRESSED");
    static final int PAGE_SIZE = 100;

    private final SystemConfig config;
    private final Map<String, String> headers;

    public KlaviyoPuller(SystemConfig config) {
        this.config = config;
        this.headers = Map.of("Authorization", "Klaviyo-API-Key " + config.required("api-key"), "revision",
                config.value("revision", KlaviyoAdapter.REVISION));
    }

    @Override
    public String system() {
        return config.name();
    }

    @Override
    public Page page(String cursor, VendorClient client) throws PageFailed {
        int reason = 0;
        String url = null;
        if (cursor != null) {
            int bar = cursor.indexOf('|');
            reason = Integer.parseInt(cursor.substring(0, bar));
            url = cursor.substring(bar + 1);
        }
        if (url == null || url.isEmpty()) {
            url = firstPage(REASONS.get(reason));
        }
        VendorAnswer answer = client.call(Requests.json("GET", url, headers, "application/vnd.api+json", null));
        PageFailed.unlessSuccess(answer, "GET /api/profiles");
        JsonNode body = Requests.body(answer);
        if (!body.path("data").isArray()) {
            throw new PageFailed(answer, "GET /api/profiles answered without a data array");
        }
        List<Suppressed> contacts = new ArrayList<>();
        for (JsonNode profile : body.path("data")) {
            JsonNode attributes = profile.path("attributes");
            String email = Json.text(attributes, "email");
            JsonNode marketing = attributes.path("subscriptions").path("email").path("marketing");
            if (email == null || marketing.path("can_receive_email_marketing").asBoolean(false)) {
                continue;
            }
            JsonNode suppression = suppression(marketing.path("suppression"), REASONS.get(reason));
            String why = suppression == null ? REASONS.get(reason) : suppression.path("reason").asText();
            ConsentState state = "UNSUBSCRIBE".equals(why) ? ConsentState.UNSUBSCRIBED : ConsentState.SUPPRESSED;
            contacts.add(new Suppressed(email, Json.text(profile, "id"), state, why.toLowerCase(Locale.ROOT),
                    suppression == null ? null : SuppressionPuller.time(Json.text(suppression, "timestamp"))));
        }
        String next = Json.text(body.path("links"), "next");
        if (next != null && !next.startsWith(config.url("/"))) {
            // The API key travels with every page: only ever to the configured Klaviyo host.
            throw new PageFailed(answer, "links.next leads away from " + config.url("/") + ": not followed");
        }
        String nextCursor = next != null ? reason + "|" + next
                : reason + 1 < REASONS.size() ? (reason + 1) + "|" : null;
        return new Page(contacts, nextCursor, body.path("data").size());
    }

    /** The suppression entry with this reason (Klaviyo lists them as an array), or the first one. */
    private static JsonNode suppression(JsonNode suppressions, String reason) {
        if (suppressions.isObject()) {
            return suppressions;
        }
        JsonNode first = null;
        for (JsonNode s : suppressions) {
            if (reason.equals(s.path("reason").asText())) {
                return s;
            }
            first = first == null ? s : first;
        }
        return first;
    }

    private String firstPage(String reason) {
        String filter = "equals(subscriptions.email.marketing.suppression.reason,\"" + reason + "\")";
        return config.url("/api/profiles?" + encode("additional-fields[profile]") + "=subscriptions&"
                + encode("page[size]") + "=" + config.intValue("reconcile.page-size", PAGE_SIZE) + "&filter="
                + encode(filter));
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
