package io.handoff.hub.propagation;

import java.io.IOException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.Json;

/**
 * What an address delivery ({@link Delivery#KIND_ADDRESS}) carries in its payload: the hub field (shipping, billing),
 * where that field goes in the receiving system ({@code target}: a Salesforce Contact address prefix such as
 * {@code Mailing}, {@code standard} for HubSpot's contact address properties; null where the system has one address),
 * the address ({@code line1, line2, city, region, regionCode, postalCode, country, countryCode}) and its normalised
 * hash (the write's idempotency key part, and how the hub recognises its own echo).
 */
public record AddressPayload(String field, String target, ObjectNode address, String hash) {

    public String toJson() {
        ObjectNode node = Json.MAPPER.createObjectNode();
        node.put("field", field);
        node.put("target", target);
        node.set("address", address);
        node.put("hash", hash);
        return node.toString();
    }

    public static AddressPayload of(Delivery d) {
        try {
            JsonNode node = Json.MAPPER.readTree(d.payload());
            return new AddressPayload(node.path("field").asText(), Json.text(node, "target"),
                    (ObjectNode) node.get("address"), node.path("hash").asText());
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("delivery " + d.id() + " has no readable address payload", e);
        }
    }

    /** True if the delivery's payload is an address this class can read. */
    public static boolean readable(Delivery d) {
        try {
            return of(d).address() != null;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /** A text field of the address, or "" if it is not there. */
    public String text(String name) {
        JsonNode value = address.get(name);
        return value == null || value.isNull() ? "" : value.asText();
    }

    /** The street lines as one text: line1, and line2 on a new line if there is one. */
    public String street() {
        return text("line2").isEmpty() ? text("line1") : text("line1") + "\n" + text("line2");
    }

    /** The region's code if known (CA), else its name. */
    public String regionCode() {
        return text("regionCode").isEmpty() ? text("region") : text("regionCode");
    }

    /** The country's ISO code if known (US), else its name. */
    public String countryCode() {
        return text("countryCode").isEmpty() ? text("country") : text("countryCode");
    }
}
