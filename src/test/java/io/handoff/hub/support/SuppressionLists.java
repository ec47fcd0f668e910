package io.handoff.hub.support;

import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;

/**
 * Stubs each vendor's suppression list in its real API's shape, two contacts a page, where the second page of each
 * list fails once (503; Shopify answers THROTTLED, the loyalty platform 429 with Retry-After) before it is served:
 * the hub must ask for that same page again, not start over.
 */
public final class SuppressionLists {

    /**
     * One contact as the vendor lists it.
     *
     * @param reason the vendor's own reason or state (Klaviyo: HARD_BOUNCE, UNSUBSCRIBE...; Shopify: UNSUBSCRIBED or
     *        INVALID; HubSpot: UNSUBSCRIBED or SUBSCRIBED; loyalty: unsubscribed, hard_bounce; Salesforce ignores it)
     */
    public record Listed(String email, String id, String reason, Instant at) {
    }

    static final List<String> KLAVIYO_REASONS = List.of("HARD_BOUNCE", "INVALID_EMAIL", "SPAM_COMPLAINT",
            "UNSUBSCRIBE", "USER_SUPPRESSED");

    private SuppressionLists() {
    }

    static <T> List<List<T>> pages(List<T> all) {
        List<List<T>> pages = new ArrayList<>();
        for (int i = 0; i < all.size(); i += 2) {
            pages.add(all.subList(i, Math.min(all.size(), i + 2)));
        }
        if (pages.isEmpty()) {
            pages.add(List.of());
        }
        return pages;
    }

    /** Page {@code index} (0-based); the second page answers {@code failure} first, then {@code page}. */
    private static void stub(WireMockServer server, String scenario, int index, Supplier<MappingBuilder> request,
            ResponseDefinitionBuilder failure, ResponseDefinitionBuilder page) {
        if (index == 1 && failure != null) {
            server.stubFor(request.get().atPriority(1).inScenario(scenario).whenScenarioStateIs(STARTED)
                    .willReturn(failure).willSetStateTo("served"));
            server.stubFor(request.get().atPriority(1).inScenario(scenario).whenScenarioStateIs("served")
                    .willReturn(page));
        } else {
            server.stubFor(request.get().atPriority(1).willReturn(page));
        }
    }

    private static ResponseDefinitionBuilder json(String contentType, Object body) {
        return aResponse().withStatus(200).withHeader("Content-Type", contentType).withBody(body.toString());
    }

    private static ResponseDefinitionBuilder unavailable() {
        return aResponse().withStatus(503).withHeader("Content-Type", "application/json").withBody("{}");
    }

    public static void klaviyo(WireMockServer server, List<Listed> listed) {
        for (String reason : KLAVIYO_REASONS) {
            List<List<Listed>> pages = pages(listed.stream().filter(l -> reason.equals(l.reason())).toList());
            String filter = "equals(subscriptions.email.marketing.suppression.reason,\"" + reason + "\")";
            for (int i = 0; i < pages.size(); i++) {
                ObjectNode body = Json.MAPPER.createObjectNode();
                ArrayNode data = body.putArray("data");
                for (Listed l : pages.get(i)) {
                    ObjectNode marketing = data.addObject().put("type", "profile").put("id", l.id())
                            .putObject("attributes").put("email", l.email()).putObject("subscriptions")
                            .putObject("email").putObject("marketing");
                    marketing.put("can_receive_email_marketing", false).put("consent",
                            "UNSUBSCRIBE".equals(reason) ? "UNSUBSCRIBED" : "NEVER_SUBSCRIBED");
                    marketing.putArray("suppression").addObject().put("reason", reason).put("timestamp",
                            l.at().toString());
                    marketing.putArray("list_suppressions");
                }
                String next = i + 1 < pages.size() ? server.baseUrl() + "/api/profiles?additional-fields%5Bprofile%5D="
                        + "subscriptions&page%5Bsize%5D=100&filter=" + URLEncoder.encode(filter, StandardCharsets.UTF_8)
                        + "&page%5Bcursor%5D=" + reason + "-p" + (i + 1) : null;
                body.putObject("links").put("self", server.baseUrl() + "/api/profiles").put("next", next)
                        .putNull("prev");
                int page = i;
                Supplier<MappingBuilder> request = () -> get(urlPathEqualTo("/api/profiles"))
                        .withQueryParam("filter", equalTo(filter))
                        .withQueryParam("additional-fields[profile]", equalTo("subscriptions"))
                        .withQueryParam("page[cursor]", page == 0 ? absent() : equalTo(reason + "-p" + page))
                        .withHeader("revision", equalTo("2026-07-15"));
                stub(server, "klaviyo-" + reason, i, request, unavailable(), json("application/vnd.api+json", body));
            }
        }
    }

    public static void salesforce(WireMockServer server, List<Listed> listed) {
        List<List<Listed>> pages = pages(listed);
        DateTimeFormatter sf = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ").withZone(ZoneOffset.UTC);
        for (int i = 0; i < pages.size(); i++) {
            ObjectNode body = Json.MAPPER.createObjectNode().put("totalSize", listed.size())
                    .put("done", i + 1 == pages.size());
            if (i + 1 < pages.size()) {
                body.put("nextRecordsUrl", "/services/data/v64.0/query/01gTEST-" + (i + 1));
            }
            ArrayNode records = body.putArray("records");
            for (Listed l : pages.get(i)) {
                ObjectNode r = records.addObject();
                r.putObject("attributes").put("type", "Contact").put("url",
                        "/services/data/v64.0/sobjects/Contact/" + l.id());
                r.put("Id", l.id()).put("Email", l.email()).put("HasOptedOutOfEmail", true)
                        .put("LastModifiedDate", sf.format(l.at()));
            }
            int page = i;
            Supplier<MappingBuilder> request = () -> (page == 0
                    ? get(urlPathEqualTo("/services/data/v64.0/query")).withQueryParam("q",
                            equalTo("SELECT Id,Email,HasOptedOutOfEmail,LastModifiedDate FROM Contact"
                                    + " WHERE HasOptedOutOfEmail=true"))
                    : get(urlPathEqualTo("/services/data/v64.0/query/01gTEST-" + page))).withHeader("Authorization",
                            equalTo("Bearer " + VendorStubs.SALESFORCE_TOKEN));
            stub(server, "salesforce", i, request, unavailable(), json("application/json", body));
        }
    }

    /** HubSpot lists every contact; {@code reason} is its status (UNSUBSCRIBED or SUBSCRIBED) for the subscription. */
    public static void hubspot(WireMockServer server, List<Listed> contacts) {
        List<List<Listed>> pages = pages(contacts);
        int id = 0;
        for (int i = 0; i < pages.size(); i++) {
            ObjectNode search = Json.MAPPER.createObjectNode().put("total", contacts.size());
            ArrayNode results = search.putArray("results");
            ObjectNode statuses = Json.MAPPER.createObjectNode().put("status", "COMPLETE")
                    .put("startedAt", "2026-11-23T10:00:00Z").put("completedAt", "2026-11-23T10:00:01Z");
            ArrayNode read = statuses.putArray("results");
            String after = Integer.toString(id);
            for (Listed l : pages.get(i)) {
                id++;
                results.addObject().put("id", Integer.toString(id)).put("archived", false)
                        .put("createdAt", "2026-01-01T00:00:00Z").put("updatedAt", "2026-01-01T00:00:00Z")
                        .putObject("properties").put("email", l.email()).put("hs_object_id", Integer.toString(id));
                ObjectNode result = read.addObject().put("subscriberIdString", l.email());
                result.putArray("statuses").addObject().put("subscriberIdString", l.email()).put("channel", "EMAIL")
                        .put("subscriptionId", VendorStubs.HUBSPOT_SUBSCRIPTION).put("status", l.reason())
                        .put("source", "PORTAL").put("timestamp", l.at().toString());
            }
            if (i + 1 < pages.size()) {
                search.putObject("paging").putObject("next").put("after", Integer.toString(id)).put("link",
                        "?after=" + id);
            }
            stub(server, "hubspot", i, () -> post(urlPathEqualTo("/crm/v3/objects/contacts/search"))
                    .withRequestBody(containing("\"value\":\"" + after + "\"")), unavailable(),
                    json("application/json", search));
            String firstEmail = pages.get(i).isEmpty() ? "none" : pages.get(i).get(0).email();
            server.stubFor(post(urlPathEqualTo("/communication-preferences/v4/statuses/batch/read"))
                    .withQueryParam("channel", equalTo("EMAIL")).withRequestBody(containing(firstEmail)).atPriority(1)
                    .willReturn(json("application/json", statuses)));
        }
    }

    /** Shopify's customers; {@code reason} is the marketing state (UNSUBSCRIBED or INVALID). */
    public static void shopify(WireMockServer server, List<Listed> listed) {
        List<List<Listed>> pages = pages(listed);
        for (int i = 0; i < pages.size(); i++) {
            ObjectNode body = Json.MAPPER.createObjectNode();
            ObjectNode customers = body.putObject("data").putObject("customers");
            ArrayNode edges = customers.putArray("edges");
            for (Listed l : pages.get(i)) {
                ObjectNode edge = edges.addObject().put("cursor", "e-" + l.id());
                edge.putObject("node").put("id", l.id()).putObject("defaultEmailAddress").put("emailAddress", l.email())
                        .put("marketingState", l.reason()).put("marketingUpdatedAt", l.at().toString());
            }
            customers.putObject("pageInfo").put("hasNextPage", i + 1 < pages.size()).put("endCursor", "c" + (i + 1));
            ObjectNode throttled = Json.MAPPER.createObjectNode();
            throttled.putArray("errors").addObject().put("message", "Throttled").putObject("extensions")
                    .put("code", "THROTTLED");
            throttled.putObject("extensions").putObject("cost").put("requestedQueryCost", 252)
                    .put("actualQueryCost", (String) null).putObject("throttleStatus").put("maximumAvailable", 2000.0)
                    .put("currentlyAvailable", 250).put("restoreRate", 1000.0);
            String cursor = i == 0 ? "\"cursor\":null" : "\"cursor\":\"c" + i + "\"";
            Supplier<MappingBuilder> request = () -> post(urlPathEqualTo("/admin/api/2026-07/graphql.json"))
                    .withRequestBody(containing("customers(first: 250")).withRequestBody(containing(cursor));
            stub(server, "shopify", i, request, json("application/json", throttled), json("application/json", body));
        }
    }

    /** The loyalty platform's members ({@code routes/loyalty-puller.yaml}); {@code reason} as it reports it. */
    public static void loyalty(WireMockServer server, List<Listed> listed) {
        List<List<Listed>> pages = pages(listed);
        for (int i = 0; i < pages.size(); i++) {
            ObjectNode body = Json.MAPPER.createObjectNode();
            ArrayNode members = body.putArray("members");
            for (Listed l : pages.get(i)) {
                members.addObject().put("memberId", l.id()).put("email", l.email()).put("optIn", false)
                        .put("reason", l.reason()).put("updatedAt", l.at().toString());
            }
            body.put("nextCursor", i + 1 < pages.size() ? "c" + (i + 1) : null);
            int page = i;
            Supplier<MappingBuilder> request = () -> get(urlPathEqualTo("/api/v1/members"))
                    .withQueryParam("optedOut", equalTo("true"))
                    .withQueryParam("cursor", page == 0 ? absent() : equalTo("c" + page))
                    .withHeader("X-Api-Key", equalTo(VendorStubs.LOYALTY_KEY));
            stub(server, "loyalty", i, request, aResponse().withStatus(429).withHeader("Retry-After", "1"),
                    json("application/json", body));
        }
    }

    public static String emails(List<Listed> listed) {
        return listed.stream().map(Listed::email).collect(Collectors.joining(","));
    }
}
