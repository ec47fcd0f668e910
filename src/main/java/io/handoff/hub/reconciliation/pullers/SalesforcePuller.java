package io.handoff.hub.reconciliation.pullers;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.adapters.Requests;
import io.handoff.hub.reconciliation.SuppressionPuller;
import io.handoff.hub.support.Json;

/**
 * Salesforce's opted-out Contacts: the SOQL query {@value #SOQL} ({@code GET /services/data/<version>/query}), then
 * {@code nextRecordsUrl} (up to 2,000 records a batch) until {@code done}. Salesforce keeps no opt-out time, so a
 * contact's {@code LastModifiedDate} stands for it (it is never earlier than the opt-out). The cursor is the
 * {@code nextRecordsUrl}.
 */
public class SalesforcePuller implements SuppressionPuller {

    static final String SOQL = "SELECT Id,Email,HasOptedOutOfEmail,LastModifiedDate FROM Contact"
            + " WHERE HasOptedOutOfEmail=true";
    private static final DateTimeFormatter SALESFORCE_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ");

    private final SystemConfig config;
    private final Map<String, String> headers;
    private final String version;

    public SalesforcePuller(SystemConfig config) {
        this.config = config;
        this.headers = Map.of("Authorization", "Bearer " + config.required("access-token"));
        this.version = config.value("api-version", "v64.0");
    }

    @Override
    public String system() {
        return config.name();
    }

    @Override
    public Page page(String cursor, VendorClient client) throws PageFailed {
        String url = cursor != null ? config.url(cursor)
                : config.url("/services/data/" + version + "/query?q=" + SOQL.replace(' ', '+'));
        VendorAnswer answer = client.call(Requests.json("GET", url, headers, "application/json", null));
        PageFailed.unlessSuccess(answer, "SOQL query");
        JsonNode body = Requests.body(answer);
        if (!body.path("records").isArray()) {
            throw new PageFailed(answer, "SOQL query answered without records");
        }
        List<Suppressed> contacts = new ArrayList<>();
        for (JsonNode record : body.path("records")) {
            String email = Json.text(record, "Email");
            if (email != null && record.path("HasOptedOutOfEmail").asBoolean(false)) {
                contacts.add(new Suppressed(email, Json.text(record, "Id"), ConsentState.UNSUBSCRIBED, null,
                        time(Json.text(record, "LastModifiedDate"))));
            }
        }
        String next = body.path("done").asBoolean(true) ? null : Json.text(body, "nextRecordsUrl");
        return new Page(contacts, next, body.path("records").size());
    }

    /** Salesforce writes {@code 2026-11-20T10:00:00.000+0000} (no colon in the offset); ISO-8601 is accepted too. */
    static Instant time(String text) {
        if (text == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(text, SALESFORCE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return Json.instant(text);
            } catch (IllegalArgumentException notIso) {
                return null;
            }
        }
    }
}
