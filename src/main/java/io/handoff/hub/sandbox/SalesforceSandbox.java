package io.handoff.hub.sandbox;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * Simulated Salesforce REST API: SOQL {@code SELECT Id FROM Contact WHERE Email = '...'},
 * {@code SELECT Id, Email FROM Contact WHERE Email IN ('...', ...)} (emails compared without regard to case) and
 * {@value #OPTED_OUT_SOQL} (batches of {@value #BATCH_SIZE} in Id order, the next one at {@code nextRecordsUrl}
 * {@code /services/data/vNN.N/query/01gSBX-<offset>}), {@code PATCH /services/data/vNN.N/sobjects/Contact/{id}}
 * (204) and {@code GET /services/data/vNN.N/sobjects/Contact/{id}} (200: {@code attributes}, {@code Id},
 * {@code Email}, {@code HasOptedOutOfEmail}, {@code LastModifiedDate} and the address fields the Contact holds).
 * A PATCH sets {@code HasOptedOutOfEmail} and the Contact's address fields ({@code Mailing*} and {@code Other*}:
 * Street, City, State, PostalCode, Country, StateCode, CountryCode; null clears one, a field not sent is kept);
 * it takes {@code Email}, {@code FirstName}, {@code LastName} and {@code Phone} too but does not keep them. Needs a
 * bearer token; refuses unknown fields ({@code INVALID_FIELD}), wrong types ({@code JSON_PARSER_ERROR}), unknown
 * ids ({@code NOT_FOUND}) and other SOQL ({@code MALFORMED_QUERY}); a refused PATCH changes nothing. Every PATCH
 * sets {@code LastModifiedDate}, as Salesforce does. The sandbox org holds a Contact for every email (its id
 * derived from the email), the way a CRM that is the master of customer records would.
 */
public class SalesforceSandbox implements SandboxApi {

    private static final Pattern QUERY = Pattern.compile("/services/data/(v\\d+\\.\\d+)/query(?:/([^/]+))?");
    private static final Pattern LOCATOR = Pattern.compile("01gSBX-(\\d{1,9})");
    static final String OPTED_OUT_SOQL = "SELECT Id,Email,HasOptedOutOfEmail,LastModifiedDate FROM Contact"
            + " WHERE HasOptedOutOfEmail=true";
    private static final Pattern OPTED_OUT = Pattern.compile(
            "SELECT\\s+Id\\s*,\\s*Email\\s*,\\s*HasOptedOutOfEmail\\s*,\\s*LastModifiedDate"
            + "\\s+FROM\\s+Contact\\s+WHERE\\s+HasOptedOutOfEmail\\s*=\\s*true",
            Pattern.CASE_INSENSITIVE);
    /** Records per batch of a query's answer (Salesforce's default batch size). */
    static final int BATCH_SIZE = 2000;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ")
            .withZone(ZoneOffset.UTC);
    private static final Pattern CONTACT = Pattern.compile(
            "/services/data/(v\\d+\\.\\d+)/sobjects/Contact/([A-Za-z0-9]{15,18})");
    private static final Pattern BY_EMAIL = Pattern.compile(
            "SELECT\\s+Id\\s+FROM\\s+Contact\\s+WHERE\\s+Email\\s*=\\s*'((?:[^'\\\\]|\\\\.)*)'(\\s+LIMIT\\s+\\d+)?",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern BY_EMAILS = Pattern.compile(
            "SELECT\\s+Id\\s*,\\s*Email\\s+FROM\\s+Contact\\s+WHERE\\s+Email\\s+IN\\s*\\(\\s*((?:'(?:[^'\\\\]|\\\\.)*'"
            + "\\s*,\\s*)*'(?:[^'\\\\]|\\\\.)*')\\s*\\)(\\s+LIMIT\\s+\\d+)?",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern LITERAL = Pattern.compile("'((?:[^'\\\\]|\\\\.)*)'");
    /** The Contact's compound address fields, {@code Mailing*} and {@code Other*}, which a PATCH keeps. */
    static final Set<String> ADDRESS_FIELDS = Stream.of("Mailing", "Other")
            .flatMap(prefix -> Stream.of("Street", "City", "State", "PostalCode", "Country", "StateCode", "CountryCode")
                    .map(part -> prefix + part))
            .collect(Collectors.toUnmodifiableSet());
    private static final Set<String> STRING_FIELDS = Stream.concat(ADDRESS_FIELDS.stream(),
            Stream.of("Email", "FirstName", "LastName", "Phone")).collect(Collectors.toUnmodifiableSet());

    /**
     * A Contact; {@code reason} is the one a {@code _suppress} seeded, kept for the state only; {@code address} the
     * address fields it holds (name to value, in name order, never null values).
     */
    record Contact(String id, String email, boolean optedOut, String reason, Instant modified,
            SortedMap<String, String> address) {
        Contact {
            address = Collections.unmodifiableSortedMap(address == null ? new TreeMap<String, String>()
                    : new TreeMap<String, String>(address));
        }

        Contact(String id, String email, boolean optedOut, String reason, Instant modified) {
            this(id, email, optedOut, reason, modified, null);
        }
    }

    private final Map<String, Contact> contacts = new ConcurrentHashMap<>();
    private final ConsentTransitions transitions = new ConsentTransitions();

    @Override
    public Answer handle(Request request) {
        String auth = request.header("Authorization");
        if (auth == null || !auth.startsWith("Bearer ") || auth.length() <= 7) {
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid");
        }
        Matcher q = QUERY.matcher(request.path());
        if ("GET".equals(request.method()) && q.matches()) {
            if (q.group(2) == null) {
                return query(q.group(1), request.query().getOrDefault("q", ""));
            }
            Matcher locator = LOCATOR.matcher(q.group(2));
            return locator.matches() ? optedOut(q.group(1), Integer.parseInt(locator.group(1)))
                    : error(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
        }
        Matcher contact = CONTACT.matcher(request.path());
        if (contact.matches() && "PATCH".equals(request.method())) {
            return patch(contact.group(2), request);
        }
        if (contact.matches() && "GET".equals(request.method())) {
            return get(contact.group(1), contact.group(2));
        }
        return error(404, "NOT_FOUND", "The requested resource does not exist");
    }

    private Answer query(String version, String soql) {
        if (OPTED_OUT.matcher(soql.replace('+', ' ').strip()).matches()) {
            return optedOut(version, 0);
        }
        Matcher many = BY_EMAILS.matcher(soql.strip());
        boolean inList = many.matches();
        List<String> emails = new java.util.ArrayList<>();
        if (inList) {
            Matcher literal = LITERAL.matcher(many.group(1));
            while (literal.find()) {
                emails.add(literal.group(1));
            }
        } else {
            Matcher m = BY_EMAIL.matcher(soql.strip());
            if (!m.matches()) {
                return error(400, "MALFORMED_QUERY", "unexpected token in: " + soql);
            }
            emails.add(m.group(1));
        }
        ObjectNode result = Json.MAPPER.createObjectNode();
        ArrayNode records = Json.MAPPER.createArrayNode();
        for (String text : emails.stream().map(e -> e.replace("\\'", "'").replace("\\\\", "\\")
                .toLowerCase(java.util.Locale.ROOT)).distinct().toList()) {
            String id = id(text);
            if (contacts.putIfAbsent(id, new Contact(id, text, false, null, Instant.now())) == null) {
                transitions.note(text, true);
            }
            ObjectNode record = records.addObject();
            record.putObject("attributes").put("type", "Contact").put("url",
                    "/services/data/v64.0/sobjects/Contact/" + id);
            record.put("Id", id);
            if (inList) {
                record.put("Email", text);
            }
        }
        result.put("totalSize", records.size()).put("done", true);
        result.set("records", records);
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
        SortedMap<String, String> address = new TreeMap<>(contact.address());
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
            } else if (ADDRESS_FIELDS.contains(field.getKey())) {
                if (field.getValue().isNull()) {
                    address.remove(field.getKey());
                } else {
                    address.put(field.getKey(), field.getValue().asText());
                }
            }
        }
        contacts.put(id, new Contact(id, contact.email(), optedOut, optedOut ? contact.reason() : null, Instant.now(),
                address));
        transitions.note(contact.email(), !optedOut);
        return Answer.empty(204);
    }

    /** The Contact's record: its id, email, opt-out, last change and the address fields it holds. */
    private Answer get(String version, String id) {
        Contact c = contacts.get(id);
        if (c == null) {
            return error(404, "NOT_FOUND", "The requested resource does not exist");
        }
        ObjectNode record = Json.MAPPER.createObjectNode();
        record.putObject("attributes").put("type", "Contact").put("url",
                "/services/data/" + version + "/sobjects/Contact/" + c.id());
        record.put("Id", c.id()).put("Email", c.email()).put("HasOptedOutOfEmail", c.optedOut())
                .put("LastModifiedDate", TIME.format(c.modified()));
        c.address().forEach(record::put);
        return Answer.json(200, record);
    }

    /** The batch at {@code offset} of the opted-out Contacts, in Id order. */
    private Answer optedOut(String version, int offset) {
        List<Contact> all = new TreeMap<>(contacts).values().stream().filter(Contact::optedOut).toList();
        int end = Math.min(offset + BATCH_SIZE, all.size());
        ObjectNode result = Json.MAPPER.createObjectNode();
        result.put("totalSize", all.size()).put("done", end >= all.size());
        if (end < all.size()) {
            result.put("nextRecordsUrl", "/services/data/" + version + "/query/01gSBX-" + end);
        }
        ArrayNode records = result.putArray("records");
        for (Contact c : all.subList(Math.min(offset, end), end)) {
            ObjectNode record = records.addObject();
            record.putObject("attributes").put("type", "Contact").put("url",
                    "/services/data/" + version + "/sobjects/Contact/" + c.id());
            record.put("Id", c.id()).put("Email", c.email()).put("HasOptedOutOfEmail", true)
                    .put("LastModifiedDate", TIME.format(c.modified()));
        }
        return Answer.json(200, result);
    }

    @Override
    public void suppress(String email, String reason, Instant at) {
        contacts.compute(id(email), (id, old) -> new Contact(id, email, true, reason, at,
                old == null ? null : old.address()));
        transitions.note(email, false);
    }

    @Override
    public void subscribe(String email, Instant at) {
        contacts.compute(id(email), (id, old) -> new Contact(id, email, false, null, at,
                old == null ? null : old.address()));
        transitions.note(email, true);
    }

    @Override
    public ConsentTransitions transitions() {
        return transitions;
    }

    /** The sandbox org's Contact id of an email. */
    static String id(String email) {
        return "003SBX" + Pii.sha256Hex(email).substring(0, 12).toUpperCase();
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
        contacts.values().forEach(c -> {
            ObjectNode contact = out.putObject(c.email()).put("Id", c.id()).put("HasOptedOutOfEmail", c.optedOut())
                    .put("reason", c.reason()).put("LastModifiedDate", c.modified().toString());
            c.address().forEach(contact::put);
        });
        return state;
    }
}
