package io.handoff.hub.propagation.adapters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorRequest;
import io.handoff.hub.support.Json;

/** Small helpers the adapters share: JSON bodies and answers. */
public final class Requests {

    private Requests() {
    }

    public static VendorRequest json(String method, String url, Map<String, String> headers, String contentType,
            JsonNode body) {
        Map<String, String> all = new LinkedHashMap<>(headers);
        all.put("Accept", contentType);
        if (body != null) {
            all.put("Content-Type", contentType);
        }
        try {
            return new VendorRequest(method, url, all, body == null ? null : Json.MAPPER.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The answer's JSON body, or a missing node if there is none or it is not JSON. */
    public static JsonNode body(VendorAnswer answer) {
        if (answer.body() == null || answer.body().isBlank()) {
            return Json.MAPPER.missingNode();
        }
        try {
            return Json.MAPPER.readTree(answer.body());
        } catch (IOException e) {
            return Json.MAPPER.missingNode();
        }
    }
}
