package io.handoff.hub.propagation.adapters;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.propagation.AddressPayload;
import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.VendorRequest;
import io.handoff.hub.support.Json;

/**
 * Salesforce: the Contact's {@code HasOptedOutOfEmail} through {@code PATCH /services/data/<version>/sobjects/Contact/<id>}
 * (204 No Content on success), bearer token from {@code hub.systems.salesforce.access-token}. The Contact id comes
 * from the identity cross-reference; for the customers of a batch whose ids the hub does not know yet, one SOQL query
 * by email ({@code WHERE Email IN (...)}, up to {@value #EMAILS_PER_QUERY} emails a query) finds the contacts (every
 * one of them is updated, and the ids are linked for next time); none found means the CRM does not hold this
 * customer, and the delivery is skipped. Email opt-out has no SMS or per-purpose counterpart on Contact: SMS changes
 * are not sent. Address write-backs go to the Contact's address fields ({@link #deliverAddresses}).
 */
public class SalesforceAdapter extends VendorAdapter {

    static final String MEDIA_TYPE = "application/json";
    /**
     * Emails looked up by one SOQL query: each call counts against the org's daily API allocation, and a batch of new
     * customers used to cost one lookup each. Bounded, with {@link #MAX_SOQL_CHARS}, so that the query stays well
     * inside the URI length Salesforce takes (16,384 characters) and its contacts inside one batch of the answer.
     */
    static final int EMAILS_PER_QUERY = 50;
    /** The longest SOQL statement of one lookup (before URL encoding). */
    static final int MAX_SOQL_CHARS = 4000;
    /** Contacts asked for per email looked up (a customer can be several Contacts; all of them are updated). */
    static final int CONTACTS_PER_EMAIL = 20;

    private final Map<String, String> headers;
    private final String version;
    private final SystemIdLinks links;
    private final boolean addressCodes;

    public SalesforceAdapter(SystemConfig config, SystemIdLinks links) {
        super(config);
        this.headers = Map.of("Authorization", "Bearer " + config.required("access-token"));
        this.version = config.value("api-version", "v64.0");
        this.links = links;
        this.addressCodes = Boolean.parseBoolean(config.value("address-codes", "false"));
    }

    @Override
    public List<Outcome> deliver(List<Delivery> batch, VendorClient client) {
        return deliverAll(batch, client, d -> !"email".equals(d.channel())
                ? Outcome.skipped(d, "not-applicable: Contact.HasOptedOutOfEmail covers email only")
                : purposeNotMapped(d, "HasOptedOutOfEmail"), d -> {
                    boolean optedOut = d.state() != io.handoff.hub.consent.ConsentState.SUBSCRIBED;
                    return id -> patch(id, optedOut);
                });
    }

    /**
     * The batch's outcomes, in its order: a delivery {@code skip} answers for is skipped; the Contacts of the others
     * whose ids the hub does not know are looked up together, and each Contact gets {@code update}'s request.
     */
    private List<Outcome> deliverAll(List<Delivery> batch, VendorClient client,
            java.util.function.Function<Delivery, Outcome> skip,
            java.util.function.Function<Delivery, java.util.function.Function<String, VendorRequest>> update) {
        List<Outcome> outcomes = new ArrayList<>(batch.size());
        List<Delivery> sent = new ArrayList<>();
        for (Delivery d : batch) {
            Outcome skipped = skip.apply(d);
            outcomes.add(skipped);
            if (skipped == null) {
                sent.add(d);
            }
        }
        Map<String, Contacts> found = lookUp(sent, client);
        for (int i = 0; i < batch.size(); i++) {
            if (outcomes.get(i) == null) {
                outcomes.set(i, patchEach(batch.get(i), client, found, update.apply(batch.get(i))));
            }
        }
        return outcomes;
    }

    /** Updates each of the customer's Contacts; the first failure ends it. */
    private Outcome patchEach(Delivery d, VendorClient client, Map<String, Contacts> found,
            java.util.function.Function<String, VendorRequest> patch) {
        List<String> ids;
        if (d.systemId() != null) {
            ids = List.of(d.systemId());
        } else if (d.email() == null) {
            return Outcome.skipped(d, "not-in-system: neither a Contact id nor an email is known");
        } else {
            Contacts contacts = found.get(key(d.email()));
            if (contacts.failed() != null) {
                return Outcome.of(d, contacts.query(), contacts.failed());
            }
            if (contacts.ids().isEmpty()) {
                return Outcome.skipped(d, "not-in-system: no Contact with this email");
            }
            ids = contacts.ids();
            ids.forEach(id -> links.link(d.hubId(), system(), id));
        }
        Outcome last = null;
        for (String id : ids) {
            VendorRequest request = patch.apply(id);
            last = Outcome.of(d, request, client.call(request));
            if (last.kind() != Outcome.Kind.DELIVERED) {
                return last;
            }
        }
        return last;
    }

    /**
     * Address write-back: the Contact's address fields under the payload's prefix ({@code Mailing} ->
     * {@code MailingStreet, MailingCity, MailingState, MailingPostalCode, MailingCountry}; with
     * {@code hub.systems.salesforce.address-codes=true}, for orgs with State and Country picklists,
     * {@code MailingStateCode} and {@code MailingCountryCode} instead of the names), one PATCH per Contact of the
     * customer; 204 confirms it.
     */
    @Override
    public List<Outcome> deliverAddresses(List<Delivery> batch, VendorClient client) {
        return deliverAll(batch, client, d -> {
            AddressPayload address = AddressPayload.of(d);
            return address.target() == null || !address.target().matches("[A-Za-z]{1,40}")
                    ? Outcome.skipped(d, "field-not-mapped: no Contact address prefix for " + address.field())
                    : null;
        }, d -> {
            ObjectNode body = addressBody(AddressPayload.of(d));
            return id -> Requests.json("PATCH", contactUrl(id), headers, MEDIA_TYPE, body);
        });
    }

    ObjectNode addressBody(AddressPayload address) {
        String prefix = address.target();
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put(prefix + "Street", address.street());
        body.put(prefix + "City", address.text("city"));
        if (addressCodes) {
            // Picklist orgs take codes; a name alone goes to the name field, which Salesforce matches to its code.
            codeOrName(body, prefix + "State", address.text("regionCode"), address.text("region"));
            codeOrName(body, prefix + "Country", address.text("countryCode"), address.text("country"));
        } else {
            body.put(prefix + "State", address.text("region").isEmpty() ? address.text("regionCode")
                    : address.text("region"));
            body.put(prefix + "Country", address.text("country").isEmpty() ? address.text("countryCode")
                    : address.text("country"));
        }
        body.put(prefix + "PostalCode", address.text("postalCode"));
        return body;
    }

    private static void codeOrName(ObjectNode body, String field, String code, String name) {
        if (!code.isEmpty()) {
            body.put(field + "Code", code);
        } else if (!name.isEmpty()) {
            body.put(field, name);
        }
    }

    /** The Contact ids found for an email, or the failed lookup (its request and answer). */
    private record Contacts(List<String> ids, VendorRequest query, VendorAnswer failed) {
    }

    /**
     * Finds the Contacts of the deliveries' customers whose ids the hub does not know, by email, with as few queries
     * as {@link #EMAILS_PER_QUERY} and {@link #MAX_SOQL_CHARS} allow. Salesforce compares emails without regard to
     * case, so they are matched to the answer's {@code Email} in lower case. Answers per email (lower case).
     */
    private Map<String, Contacts> lookUp(List<Delivery> batch, VendorClient client) {
        Map<String, Contacts> found = new java.util.HashMap<>();
        List<String> emails = new ArrayList<>();
        int chars = 0;
        for (String email : batch.stream().filter(d -> d.systemId() == null && d.email() != null)
                .map(d -> key(d.email())).distinct().toList()) {
            int length = literal(email).length();
            if (!emails.isEmpty() && (emails.size() == EMAILS_PER_QUERY || chars + length > MAX_SOQL_CHARS)) {
                found.putAll(lookUpEmails(emails, client));
                emails.clear();
                chars = 0;
            }
            emails.add(email);
            chars += length + 1;
        }
        if (!emails.isEmpty()) {
            found.putAll(lookUpEmails(emails, client));
        }
        return found;
    }

    private Map<String, Contacts> lookUpEmails(List<String> emails, VendorClient client) {
        VendorRequest query = query(emails);
        VendorAnswer answer = client.call(query);
        Map<String, Contacts> found = new java.util.HashMap<>();
        if (!answer.success()) {
            emails.forEach(e -> found.put(e, new Contacts(List.of(), query, answer)));
            return found;
        }
        Map<String, List<String>> ids = new java.util.HashMap<>();
        Requests.body(answer).path("records").forEach(r -> ids.computeIfAbsent(key(r.path("Email").asText()),
                k -> new ArrayList<>()).add(r.path("Id").asText()));
        emails.forEach(e -> found.put(e, new Contacts(ids.getOrDefault(e, List.of()), query, null)));
        return found;
    }

    private static String key(String email) {
        return email.toLowerCase(java.util.Locale.ROOT);
    }

    /** An email as a SOQL string literal (backslash and quote escaped). */
    private static String literal(String email) {
        return "'" + email.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** The Contacts with any of these emails. */
    VendorRequest query(List<String> emails) {
        String soql = "SELECT Id, Email FROM Contact WHERE Email IN (" + String.join(", ",
                emails.stream().map(SalesforceAdapter::literal).toList()) + ") LIMIT " + emails.size() * CONTACTS_PER_EMAIL;
        return Requests.json("GET", config.url("/services/data/" + version + "/query?q="
                + URLEncoder.encode(soql, StandardCharsets.UTF_8)), headers, MEDIA_TYPE, null);
    }

    VendorRequest patch(String contactId, boolean optedOut) {
        JsonNode body = Json.MAPPER.createObjectNode().put("HasOptedOutOfEmail", optedOut);
        return Requests.json("PATCH", contactUrl(contactId), headers, MEDIA_TYPE, body);
    }

    private String contactUrl(String contactId) {
        return config.url("/services/data/" + version + "/sobjects/Contact/"
                + URLEncoder.encode(contactId, StandardCharsets.UTF_8));
    }
}
