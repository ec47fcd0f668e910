package io.handoff.hub.propagation;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One HTTP call to a vendor API. Headers named in {@link #SECRET_HEADERS} are sent but never stored in a receipt.
 */
public record VendorRequest(String method, String url, Map<String, String> headers, byte[] body) {

    static final Set<String> SECRET_HEADERS = Set.of("authorization", "x-shopify-access-token", "x-api-key");

    public VendorRequest {
        headers = headers == null ? Map.of() : Map.copyOf(new LinkedHashMap<>(headers));
    }

    public String bodyText() {
        return body == null ? null : new String(body, StandardCharsets.UTF_8);
    }

    /** "PATCH https://…/Contact/003…" — the receipt's summary (no credentials: they travel in headers). */
    public String summary() {
        return method + " " + url;
    }
}
