package io.handoff.hub.sandbox;

import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * Simulated Salesforce REST API: SOQL {@code SELECT Id FROM Contact WHERE Email = '...'} and
 * {@code PATCH /services/data/vNN.N/sobjects/Contact/{id}} (204). Needs a bearer token; refuses unknown fields
 * ({@code INVALID_FIELD}), wrong types ({@code JSON_PARSER_ERROR}), unknown ids ({@code NOT_FOUND}) and other SOQL
 * ({@code MALFORMED_QUERY}). The sandbox org holds a Contact for every email (its id derived from the email), the
 * way a CRM that is the master of customer records would.
 */
public class SalesforceSandbox implements SandboxApi {

    private static final Pattern QUERY = Pattern.compile("/services/data/v\\d+\\.\\d+/query");
    private static final Pattern CONTACT = Pattern.compile("/services/data/v\\d+\\.\\d+/sobjects/Contact/([A-Za-z0-9]{15,18})");
    private static final Pattern BY_EMAIL = Pattern.compile(
            "SELECT\\s+Id\\s+FROM\\s+Contact\\s+WHERE\\s+Email\\s*=\\s*'((?:[^'\\\\]|\\\\.)*)'(\\s+LIMIT\\s+\\d+)?",
            Pattern.CASE_INSENSITIVE);
    private static final Set<String> STRING_FIELDS = Set.of("MailingStreet", "MailingCity", "MailingState",
            "MailingPostalCode", "MailingCountry", "MailingStateCode", "MailingCountryCode", "Email", "FirstName",
            "LastName", "Phone");

    record Contact(String id, String email, boolean optedOut, Instant modified) {
    }

    private final Map<String, Contact> contacts = new ConcurrentHashMap<>();

    @Override
    public Answer handle(Request request) {
        String auth = request.header("Authorization");
        if (auth == null || !auth.startsWith("Bearer ") || auth.length() <= 7) {
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid");
        }
        if ("GET".equals(request.method()) && QUERY.matcher(request.path()).matches()) {
            return query(request.query().getOrDefault("q", ""));
        }
        Matcher contact = CONTACT.matcher(request.path());
        if (contact.matches() && "PATCH".equals(request.method())) {
            return patch(contact.group(1), request);
        }
        return error(404, "NOT_FOUND", "The requested resource does not exist");
    }

    private Answer query(String soql) {
        Matcher m = BY_EMAIL.matcher(soql.strip());
        if (!m.matches()) {
            return error(400, "MALFORMED_QUERY", "unexpected token in: " + soql);
        }
        String email = m.group(1).replace("\\'", "'").replace("\\\\", "\\").toLowerCase();
        String id = "003SBX" + Pii.sha256Hex(email).substring(0, 12).toUpperCase();
        contacts.putIfAbsent(id, new Contact(id, email, false, Instant.now()));
        ObjectNode result = Json.MAPPER.createObjectNode();
        result.put("totalSize", 1).put("done", true);
        ObjectNode record = result.putArray("records").addObject();
        record.putObject("attributes").put("type", "Contact").put("url",
                "/services/data/v64.0/sobjects/Contact/" + id);
        record.put("Id", id);
        return Answer.json(200, result);
    }

    private Answer patch(String id, Request request) {
        String type = request.header("Content-Type");
        if (type == null || !type.startsWith("application/json")) {
            return error(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json");
        }
        JsonNode body = request.json();
        if (!(body instanceof ObjectNode fields)) {
            return error(400, "JSON_PARSER_ERROR", "The request body is not a JSON object");
        }
        Contact contact = contacts.get(id);
        if (contact == null) {
            return error(404, "NOT_FOUND", "The requested resource does not exist");
        }
        boolean optedOut = contact.optedOut();
        for (var field : (Iterable<Map.Entry<String, JsonNode>>) fields::fields) {
            if (field.getKey().equals("HasOptedOutOfEmail")) {
                if (!field.getValue().isBoolean()) {
                    return error(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of boolean from "
                            + field.getValue().getNodeType() + " value");
                }
                optedOut = field.getValue().asBoolean();
            } else if (!STRING_FIELDS.contains(field.getKey())) {
                return error(400, "INVALID_FIELD", "No such column '" + field.getKey()
                        + "' on sobject of type Contact");
            } else if (!field.getValue().isTextual() && !field.getValue().isNull()) {
                return error(400, "JSON_PARSER_ERROR", field.getKey() + " must be a string");
            }
        }
        contacts.put(id, new Contact(id, contact.email(), optedOut, Instant.now()));
        return Answer.empty(204);
    }

    static Answer error(int status, String code, String message) {
        ArrayNode body = Json.MAPPER.createArrayNode();
        body.addObject().put("message", message).put("errorCode", code).putArray("fields");
        return Answer.json(status, body);
    }

    @Override
    public ObjectNode state() {
        ObjectNode state = Json.MAPPER.createObjectNode();
        ObjectNode out = state.putObject("contacts");
        contacts.values().forEach(c -> out.putObject(c.email()).put("Id", c.id()).put("HasOptedOutOfEmail", c.optedOut())
                .put("LastModifiedDate", c.modified().toString()));
        return state;
    }
}
