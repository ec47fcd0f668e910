package io.handoff.hub.event;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * Builds the canonical {@code customerRef} object and derives the Kafka key and CloudEvents subject of a customer
 * event from it. Until identity resolution assigns hub ids, a customer is keyed by the SHA-256 of the normalised
 * email (so the raw email never appears in a key, subject or log), or by the first system id if there is no email.
 */
public final class CustomerRefs {

    private CustomerRefs() {
    }

    /** A customerRef with the normalised email (if any), the phone (if any) and the source system's id (if any). */
    public static ObjectNode of(String email, String phone, String system, String systemId) {
        ObjectNode ref = Json.MAPPER.createObjectNode();
        String normalised = Pii.normaliseEmail(email);
        if (normalised != null) {
            ref.put("email", normalised);
        }
        if (phone != null && !phone.isBlank()) {
            ref.put("phone", phone.strip());
        }
        if (systemId != null) {
            ref.putObject("ids").put(system, systemId);
        }
        return ref;
    }

    /** True if the ref identifies someone: an email, a phone or at least one system id. */
    public static boolean identifies(ObjectNode ref) {
        return ref.hasNonNull("email") || ref.hasNonNull("phone") || ref.path("ids").size() > 0;
    }

    /**
     * The key/subject of a customer: {@code emailsha256:<hex>} when the ref has an email, else
     * {@code <system>:<id>} for its first system id, else {@code phonesha256:<hex>}.
     */
    public static String key(ObjectNode ref) {
        if (ref.hasNonNull("email")) {
            return "emailsha256:" + Pii.emailHash(ref.get("email").asText());
        }
        var ids = ref.path("ids").fields();
        if (ids.hasNext()) {
            var first = ids.next();
            return first.getKey() + ":" + first.getValue().asText();
        }
        if (ref.hasNonNull("phone")) {
            return "phonesha256:" + Pii.sha256Hex(ref.get("phone").asText().replaceAll("[^0-9+]", ""));
        }
        throw new IllegalArgumentException("customer reference identifies no one");
    }
}
