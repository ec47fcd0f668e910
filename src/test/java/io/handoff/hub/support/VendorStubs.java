package io.handoff.hub.support;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import java.util.HashMap;
import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * WireMock stand-ins for the subscriber systems, one server each, answering with the success shapes of the real
 * contracts (../shared/vendor-contracts): Klaviyo 202 for the bulk jobs, Salesforce 204 for a Contact PATCH,
 * HubSpot's v4 batch envelope echoing each input, Shopify's GraphQL payload without userErrors, the loyalty
 * platform's 202. Tests add their own stubs (per email, so they do not disturb each other) for failures. The hub is
 * pointed at them through {@code hub.systems.<name>.base-url}, with test credentials and fast retries.
 */
public class VendorStubs implements QuarkusTestResourceLifecycleManager {

    public static final String KLAVIYO_KEY = "pk_test_klaviyo";
    public static final String SALESFORCE_TOKEN = "00Dtest!salesforce-token";
    public static final String HUBSPOT_TOKEN = "pat-test-hubspot";
    public static final String SHOPIFY_TOKEN = "shpat_test_shopify";
    public static final String LOYALTY_KEY = "loyalty-test-key";
    public static final long HUBSPOT_SUBSCRIPTION = 7_000_001L;
    public static final String KLAVIYO_NEWSLETTER_LIST = "Y6nRLr";
    /** Where the hub posts its ops alerts (a path on the loyalty stub), and the secret it signs them with. */
    public static final String ALERTS_PATH = "/ops/alerts";
    public static final String ALERTS_SECRET = "whsec_b3BzLWFsZXJ0cy10ZXN0LXNlY3JldA==";

    public static WireMockServer klaviyo;
    public static WireMockServer salesforce;
    public static WireMockServer hubspot;
    public static WireMockServer shopify;
    public static WireMockServer loyalty;

    @Override
    public Map<String, String> start() {
        klaviyo = started();
        salesforce = started();
        hubspot = started();
        shopify = started();
        loyalty = started();
        defaults();
        Map<String, String> config = new HashMap<>();
        config.put("hub.systems.klaviyo.base-url", klaviyo.baseUrl());
        config.put("hub.systems.klaviyo.api-key", KLAVIYO_KEY);
        config.put("hub.systems.klaviyo.lists.newsletter", KLAVIYO_NEWSLETTER_LIST);
        config.put("hub.systems.salesforce.base-url", salesforce.baseUrl());
        config.put("hub.systems.salesforce.access-token", SALESFORCE_TOKEN);
        config.put("hub.systems.salesforce.response-timeout-ms", "1000");
        config.put("hub.systems.hubspot.base-url", hubspot.baseUrl());
        config.put("hub.systems.hubspot.access-token", HUBSPOT_TOKEN);
        config.put("hub.systems.hubspot.subscriptions.marketing", Long.toString(HUBSPOT_SUBSCRIPTION));
        config.put("hub.systems.hubspot.response-timeout-ms", "800");
        config.put("hub.systems.shopify.base-url", shopify.baseUrl());
        config.put("hub.systems.shopify.access-token", SHOPIFY_TOKEN);
        config.put("hub.systems.loyalty.base-url", loyalty.baseUrl());
        config.put("hub.systems.loyalty.api-key", LOYALTY_KEY);
        config.put("hub.consent.purposes", "marketing,newsletter");
        config.put("hub.alerts.webhook-url", loyalty.baseUrl() + ALERTS_PATH);
        config.put("hub.alerts.webhook-secret", ALERTS_SECRET);
        config.put("hub.alerts.webhook-backoff-ms", "50");
        config.put("hub.propagation.max-attempts", "4");
        config.put("hub.propagation.initial-backoff-ms", "100");
        config.put("hub.propagation.max-backoff-ms", "400");
        config.put("hub.propagation.poll-interval-ms", "100");
        return config;
    }

    private static WireMockServer started() {
        WireMockServer server = new WireMockServer(options().dynamicPort().containerThreads(20)
                .globalTemplating(false));
        server.start();
        return server;
    }

    /** The success answers every test starts from (lowest priority: a test's own stub wins). */
    public static void defaults() {
        for (WireMockServer s : new WireMockServer[] { klaviyo, salesforce, hubspot, shopify, loyalty }) {
            s.resetAll();
            s.stubFor(any(anyUrl()).atPriority(10).willReturn(aResponse().withStatus(404)));
        }
        klaviyo.stubFor(post(urlPathMatching("/api/profile-subscription-bulk-(create|delete)-jobs")).atPriority(5)
                .willReturn(aResponse().withStatus(202)));
        klaviyo.stubFor(post(urlPathEqualTo("/api/profile-suppression-bulk-create-jobs")).atPriority(5)
                .willReturn(aResponse().withStatus(202).withHeader("Content-Type", "application/vnd.api+json")
                        .withBody("{\"data\":{\"type\":\"profile-suppression-bulk-create-job\",\"id\":\"job-1\","
                                + "\"attributes\":{\"status\":\"queued\"}}}")));
        klaviyo.stubFor(get(urlPathMatching("/api/lists/[^/]+/profiles")).atPriority(5)
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/vnd.api+json")
                        .withBody("{\"data\":[],\"links\":{\"self\":\"\",\"next\":null}}")));
        salesforce.stubFor(patch(urlPathMatching("/services/data/v64\\.0/sobjects/Contact/[A-Za-z0-9]+")).atPriority(5)
                .willReturn(aResponse().withStatus(204)));
        salesforce.stubFor(get(urlPathEqualTo("/services/data/v64.0/query")).atPriority(5)
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"totalSize\":0,\"done\":true,\"records\":[]}")));
        hubspot.stubFor(post(urlPathEqualTo("/communication-preferences/v4/statuses/batch/write")).atPriority(5)
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"status\":\"COMPLETE\",\"startedAt\":\"2026-11-23T10:00:00Z\","
                                + "\"completedAt\":\"2026-11-23T10:00:01Z\",\"results\":["
                                + "{{#each (jsonPath request.body '$.inputs') as |input|}}{{#unless @first}},{{/unless}}"
                                + "{\"subscriberIdString\":\"{{input.subscriberIdString}}\","
                                + "\"subscriptionId\":{{input.subscriptionId}},\"channel\":\"EMAIL\","
                                + "\"status\":\"{{input.statusState}}\",\"source\":\"API\","
                                + "\"timestamp\":\"2026-11-23T10:00:00Z\"}{{/each}}]}")
                        .withTransformers("response-template")));
        shopify.stubFor(post(urlPathEqualTo("/admin/api/2026-07/graphql.json")).atPriority(5)
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"data\":{\"customerEmailMarketingConsentUpdate\":{\"customer\":{\"id\":"
                                + "\"{{jsonPath request.body '$.variables.input.customerId'}}\"},\"userErrors\":[]},"
                                + "\"customerSmsMarketingConsentUpdate\":{\"customer\":{\"id\":"
                                + "\"{{jsonPath request.body '$.variables.input.customerId'}}\"},\"userErrors\":[]}},"
                                + "\"extensions\":{\"cost\":{\"requestedQueryCost\":10,\"actualQueryCost\":10,"
                                + "\"throttleStatus\":{\"maximumAvailable\":2000.0,\"currentlyAvailable\":1990,"
                                + "\"restoreRate\":100.0}}}}")
                        .withTransformers("response-template")));
        loyalty.stubFor(post(urlPathEqualTo(ALERTS_PATH)).atPriority(5).willReturn(aResponse().withStatus(204)));
        // Address write-back: HubSpot's contact update (200 with the object), Klaviyo's create-or-update profile
        // (200 for an existing profile), the loyalty platform's member address (200).
        hubspot.stubFor(patch(urlPathMatching(
                "/crm/v3/objects/contacts/[^/]+")).atPriority(5).willReturn(aResponse().withStatus(200)
                        .withHeader("Content-Type", "application/json")
                        .withBody("{\"id\":\"512\",\"properties\":{},\"createdAt\":\"2026-01-01T00:00:00Z\","
                                + "\"updatedAt\":\"2026-11-23T10:00:00Z\",\"archived\":false}")));
        klaviyo.stubFor(post(urlPathEqualTo("/api/profile-import")).atPriority(5).willReturn(aResponse()
                .withStatus(200).withHeader("Content-Type", "application/vnd.api+json")
                .withBody("{\"data\":{\"type\":\"profile\",\"id\":\"01KLAVIYOPROFILE\",\"attributes\":{}}}")));
        loyalty.stubFor(put(urlPathMatching(
                "/api/v1/members/[^/]+/address")).atPriority(5).willReturn(aResponse().withStatus(200)
                        .withHeader("Content-Type", "application/json").withBody("{\"status\":\"stored\"}")));
        loyalty.stubFor(post(urlPathEqualTo("/api/v1/consent-events")).atPriority(5)
                .willReturn(aResponse().withStatus(202).withHeader("Content-Type", "application/json")
                        .withBody("{\"status\":\"accepted\"}")));
    }

    @Override
    public void stop() {
        for (WireMockServer s : new WireMockServer[] { klaviyo, salesforce, hubspot, shopify, loyalty }) {
            if (s != null) {
                s.stop();
            }
        }
    }
}
