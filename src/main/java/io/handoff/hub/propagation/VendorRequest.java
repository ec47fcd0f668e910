package io.handoff.hub.propagation;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** One HTTP call to a vendor API. Receipts keep its method, URL and body, never its headers (they carry credentials). */
public record VendorRequest(String method, String url, Map<String, String> headers, byte[] body) {

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
