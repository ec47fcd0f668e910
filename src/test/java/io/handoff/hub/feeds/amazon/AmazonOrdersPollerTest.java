package io.handoff.hub.feeds.amazon;

import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import javax.sql.DataSource;

import jakarta.enterprise.inject.Vetoed;

import org.eclipse.microprofile.config.Config;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.EventType;
import io.handoff.hub.feeds.FeedState;
import io.handoff.hub.feeds.amazon.AmazonOrdersPoller.PollFailed;
import io.handoff.hub.feeds.amazon.AmazonOrdersPoller.Run;
import io.handoff.hub.propagation.RateLimiter;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.VendorRequest;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * The Amazon SP-API orders poller against a WireMock SP-API: every page of orders and of their items becomes one
 * {@code order.placed} each, then one {@code feed.synced} heartbeat with the newest {@code LastUpdateDate}; the next
 * run asks from that watermark; a throttled page is asked again with the same NextToken after the vendor's wait; a
 * page that keeps failing, a refused request or Kafka refusing an event fails the run without a heartbeat.
 */
class AmazonOrdersPollerTest {

    static final Instant NOW = Instant.parse("2026-11-21T12:00:00Z");
    static final String TOKEN = "Atza|test-access-token";
    static final String ORDERS = "/orders/v0/orders";
    static final String A = "902-1000001-0000001";
    static final String B = "902-1000002-0000002";
    static final String C = "902-1000003-0000003";
    static final String PAGE_TWO = "page/2+token==";

    WireMockServer amazon;
    FakeState state;
    List<CanonicalEvent> published;
    List<Duration> waits;
    Consumer<CanonicalEvent> kafka;

    @BeforeEach
    void start() {
        amazon = new WireMockServer(options().dynamicPort());
        amazon.start();
        state = new FakeState();
        published = new ArrayList<>();
        waits = new ArrayList<>();
        kafka = published::add;
    }

    @AfterEach
    void stop() {
        amazon.stop();
    }

    @Test
    void twoPagesOfOrdersWithTheirItemsBecomeOneOrderPlacedEachThenAHeartbeatAndTheNextRunAsksFromItsWatermark() {
        // The first run: no watermark yet, so one day back.
        stubOrders(firstPage("2026-11-20T12:00:00Z"), ok(page(PAGE_TWO,
                order(A, "2026-11-21T08:00:00Z", "2026-11-21T08:05:00Z", "Shipped", "Buyer.One@Marketplace.Amazon.com",
                        "40.00"),
                order(B, "2026-11-21T09:00:00Z", "2026-11-21T09:30:00Z", "Unshipped", "b@marketplace.amazon.com",
                        "20.00"))));
        stubOrders(nextPage(PAGE_TWO), ok(page(null,
                order(C, "2026-11-21T07:00:00Z", "2026-11-21T09:10:00Z", "Canceled", null, "12.50"))));
        // A's items come in two pages.
        stubItems(A, null, ok(items(A, "items-2", item("SKU-1", "B00KETTLE1", "11111111111111", 1, "25.00", "Kettle"))));
        stubItems(A, "items-2", ok(items(A, null, item("SKU-2", "B00MUGS0002", "11111111111112", 3, "15.00", "Mug"))));
        stubItems(B, null, ok(items(B, null, item(null, "B00TEST123", "22222222222221", 2, "20.00", "Teapot"))));
        stubItems(C, null, ok(items(C, null, item("SKU-1", "B00KETTLE1", "33333333333331", 1, "12.50", "Kettle"))));

        Run run = poller().poll();

        assertEquals(3, run.orders());
        assertEquals("2026-11-21T09:30:00Z", run.watermark(), "the newest LastUpdateDate, wherever it was listed");
        assertEquals(List.of(EventType.ORDER_PLACED, EventType.ORDER_PLACED, EventType.ORDER_PLACED,
                EventType.FEED_SYNCED), published.stream().map(CanonicalEvent::type).toList());

        CanonicalEvent a = published.get(0);
        assertEquals("amazon:" + A + ":2026-11-21T08:05:00Z", a.id(), "stable per version of the order");
        assertEquals("/systems/amazon", a.source());
        assertEquals(Instant.parse("2026-11-21T08:00:00Z"), a.time(), "the purchase date");
        assertEquals(CanonicalEvent.TimeSource.PAYLOAD, a.timeSource());
        assertEquals(NOW, a.receivedAt());
        String buyerKey = "emailsha256:" + Pii.emailHash("buyer.one@marketplace.amazon.com");
        assertEquals(buyerKey, a.key());
        assertEquals(buyerKey, a.subject());
        JsonNode order = a.data().path("order");
        assertEquals(A, order.path("id").asText());
        assertEquals("amazon", order.path("channel").asText());
        assertEquals("USD", order.path("currency").asText());
        assertEquals("40.00", order.path("totalPrice").asText());
        assertTrue(order.path("totalPrice").isTextual(), "a decimal string, never a float");
        assertEquals("Shipped", order.path("fulfillmentStatus").asText());
        assertEquals("buyer.one@marketplace.amazon.com", a.data().path("customer").path("email").asText());
        JsonNode lines = a.data().path("lines");
        assertEquals(2, lines.size(), "both pages of A's items");
        assertEquals("11111111111111", lines.get(0).path("id").asText());
        assertEquals("SKU-1", lines.get(0).path("sku").asText());
        assertEquals(1, lines.get(0).path("quantity").asInt());
        assertEquals("25.00", lines.get(0).path("price").asText());
        assertEquals("Kettle", lines.get(0).path("title").asText());
        assertEquals("SKU-2", lines.get(1).path("sku").asText());
        assertEquals(3, lines.get(1).path("quantity").asInt());

        CanonicalEvent b = published.get(1);
        assertEquals("B00TEST123", b.data().path("lines").get(0).path("sku").asText(), "no SellerSKU: the ASIN");
        assertEquals("b@marketplace.amazon.com", b.data().path("customer").path("email").asText());

        CanonicalEvent c = published.get(2);
        assertTrue(c.data().path("customer").isNull(), "no buyer email: no customer");
        assertEquals("amazon:order:" + C, c.key());
        assertEquals("2026-11-21T09:10:00Z", c.data().path("order").path("cancelledAt").asText());

        CanonicalEvent synced = published.get(3);
        assertEquals("amazon-orders:" + NOW.toEpochMilli(), synced.id());
        assertEquals("/systems/amazon", synced.source());
        assertEquals("feed:amazon-orders", synced.key());
        assertEquals(NOW, synced.time());
        assertEquals("amazon-orders", synced.data().path("feed").asText());
        assertEquals(3, synced.data().path("records").asInt());
        assertEquals("2026-11-21T09:30:00Z", synced.data().path("watermark").asText());
        assertEquals(NOW.toString(), synced.data().path("startedAt").asText());
        assertTrue(synced.data().path("durationMs").isIntegralNumber());
        assertEquals(List.of(), state.failures);
        assertEquals(List.of(), waits);
        amazon.verify(1, getRequestedFor(urlPathEqualTo(ORDERS)).withQueryParam("NextToken", absent()));
        amazon.verify(1, getRequestedFor(urlPathEqualTo(ORDERS)).withQueryParam("NextToken", equalTo(PAGE_TWO))
                .withQueryParam("MarketplaceIds", equalTo("ATVPDKIKX0DER")));
        for (String id : List.of(A, B, C)) {
            amazon.verify(getRequestedFor(urlPathEqualTo(ORDERS + "/" + id + "/orderItems"))
                    .withHeader("x-amz-access-token", equalTo(TOKEN)));
        }

        // The heartbeat is what stores the watermark; the next run asks for what changed after it (from two minutes
        // before it, for orders Amazon lists late).
        state.watermark = synced.data().path("watermark").asText();
        published.clear();
        stubOrders(firstPage("2026-11-21T09:28:00Z"), ok(page(null)));

        Run next = poller().poll();

        assertEquals(0, next.orders());
        assertEquals("2026-11-21T09:30:00Z", next.watermark(), "no orders: the watermark stays");
        amazon.verify(1, getRequestedFor(urlPathEqualTo(ORDERS))
                .withQueryParam("LastUpdatedAfter", equalTo("2026-11-21T09:28:00Z")));
        assertEquals(1, published.size());
        assertEquals(EventType.FEED_SYNCED, published.get(0).type());
        assertEquals(0, published.get(0).data().path("records").asInt());
        assertEquals("2026-11-21T09:30:00Z", published.get(0).data().path("watermark").asText());
    }

    @Test
    void aWatermarkInTheFutureIsCappedAtTwoMinutesAgoAsSpApiRequires() {
        state.watermark = "2026-11-21T12:05:00Z";
        stubOrders(firstPage("2026-11-21T11:58:00Z"), ok(page(null)));

        Run run = poller().poll();

        assertEquals(0, run.orders());
        assertEquals("2026-11-21T12:05:00Z", run.watermark());
        amazon.verify(1, getRequestedFor(urlPathEqualTo(ORDERS))
                .withQueryParam("LastUpdatedAfter", equalTo("2026-11-21T11:58:00Z")));
    }

    @Test
    void anOrderListedAgainInTheOverlapIsStoredAgainButIsNoNews() {
        state.watermark = "2026-11-21T09:30:00Z";
        stubOrders(firstPage("2026-11-21T09:28:00Z"), ok(page(null,
                order(A, "2026-11-21T09:20:00Z", "2026-11-21T09:29:00Z", "Unshipped", null, "25.00"))));
        stubItems(A, null, ok(items(A, null, item("SKU-1", "B00KETTLE1", "11111111111111", 1, "25.00", "Kettle"))));

        Run run = poller().poll();

        assertEquals(0, run.orders(), "updated before the watermark: not news");
        assertEquals(EventType.ORDER_PLACED, published.get(0).type(), "published again all the same (an upsert)");
        assertEquals("2026-11-21T09:30:00Z", run.watermark());
    }

    @Test
    void aThrottledPageIsAskedAgainWithTheSameNextTokenAfterTheWaitAmazonAsksFor() {
        state.watermark = "2026-11-21T09:00:00Z";
        stubOrders(firstPage("2026-11-21T08:58:00Z"), ok(page("t2",
                order(A, "2026-11-21T09:20:00Z", "2026-11-21T09:25:00Z", "Unshipped", "a@marketplace.amazon.com",
                        "25.00"))));
        String scenario = "throttled page two";
        amazon.stubFor(nextPage("t2").inScenario(scenario).whenScenarioStateIs(STARTED)
                .willReturn(error(429, "QuotaExceeded").withHeader("Retry-After", "3")).willSetStateTo("served"));
        amazon.stubFor(nextPage("t2").inScenario(scenario).whenScenarioStateIs("served").willReturn(ok(page(null,
                order(C, "2026-11-21T09:40:00Z", "2026-11-21T09:45:00Z", "Unshipped", null, "12.50")))));
        stubItems(A, null, ok(items(A, null, item("SKU-1", "B00KETTLE1", "11111111111111", 1, "25.00", "Kettle"))));
        // SP-API itself sends no Retry-After: the rate it reports says how long one more request takes.
        String itemScenario = "throttled items";
        amazon.stubFor(itemsOf(C, null).inScenario(itemScenario).whenScenarioStateIs(STARTED)
                .willReturn(error(429, "QuotaExceeded").withHeader("x-amzn-RateLimit-Limit", "0.5"))
                .willSetStateTo("served"));
        amazon.stubFor(itemsOf(C, null).inScenario(itemScenario).whenScenarioStateIs("served").willReturn(ok(items(C, null,
                item("SKU-3", "B00SPOON03", "33333333333331", 1, "12.50", "Spoon")))));

        Run run = poller().poll();

        assertEquals(2, run.orders());
        assertEquals("2026-11-21T09:45:00Z", run.watermark());
        assertEquals(List.of(Duration.ofSeconds(3), Duration.ofSeconds(2)), waits, "Retry-After, then 1 / 0.5 per s");
        amazon.verify(1, getRequestedFor(urlPathEqualTo(ORDERS)).withQueryParam("NextToken", absent()));
        amazon.verify(2, getRequestedFor(urlPathEqualTo(ORDERS)).withQueryParam("NextToken", equalTo("t2")));
        assertEquals(List.of(A, C), published.stream().filter(e -> e.type() == EventType.ORDER_PLACED)
                .map(e -> e.data().path("order").path("id").asText()).toList());
        assertEquals("SKU-3", published.get(1).data().path("lines").get(0).path("sku").asText());
        assertEquals(EventType.FEED_SYNCED, published.get(published.size() - 1).type());
        assertEquals(List.of(), state.failures);
    }

    @Test
    void aPageThatKeepsFailingFailsTheRunWithoutAHeartbeat() {
        state.watermark = "2026-11-21T09:00:00Z";
        stubOrders(firstPage("2026-11-21T08:58:00Z"), ok(page("t2",
                order(A, "2026-11-21T09:20:00Z", "2026-11-21T09:25:00Z", "Unshipped", "a@marketplace.amazon.com",
                        "25.00"))));
        stubOrders(nextPage("t2"), error(500, "InternalFailure"));
        stubItems(A, null, ok(items(A, null, item("SKU-1", "B00KETTLE1", "11111111111111", 1, "25.00", "Kettle"))));

        PollFailed failed = assertThrows(PollFailed.class, () -> poller().poll());

        assertTrue(failed.getMessage().contains("500 InternalFailure"), failed.getMessage());
        assertEquals(1, state.failures.size());
        assertTrue(state.failures.get(0).startsWith("amazon-orders: "), state.failures.get(0));
        assertTrue(state.failures.get(0).contains("after 3 tries"), state.failures.get(0));
        assertFalse(state.failures.get(0).contains("@"), "no email in the recorded failure");
        assertEquals(3, amazon.findAll(getRequestedFor(urlPathEqualTo(ORDERS)).withQueryParam("NextToken",
                equalTo("t2"))).size(), "the same page, page-attempts times");
        amazon.verify(1, getRequestedFor(urlPathEqualTo(ORDERS)).withQueryParam("NextToken", absent()));
        assertEquals(2, waits.size());
        assertTrue(published.stream().noneMatch(e -> e.type() == EventType.FEED_SYNCED), "no heartbeat");
        assertEquals(List.of("amazon:" + A + ":2026-11-21T09:25:00Z"), published.stream().map(CanonicalEvent::id)
                .toList(), "what was published before stays (same id next time)");
    }

    @Test
    void aRefusedRequestIsNotAskedAgain() {
        stubOrders(firstPage("2026-11-20T12:00:00Z"), error(400, "InvalidInput"));

        PollFailed failed = assertThrows(PollFailed.class, () -> poller().poll());

        assertTrue(failed.getMessage().contains("400 InvalidInput"), failed.getMessage());
        amazon.verify(1, getRequestedFor(urlPathEqualTo(ORDERS)));
        assertEquals(List.of(), waits);
        assertEquals(1, state.failures.size());
        assertEquals(List.of(), published);
    }

    @Test
    void kafkaRefusingAnOrderFailsTheRunWithoutAHeartbeat() {
        stubOrders(firstPage("2026-11-20T12:00:00Z"), ok(page(PAGE_TWO,
                order(A, "2026-11-21T08:00:00Z", "2026-11-21T08:05:00Z", "Shipped", "a@marketplace.amazon.com",
                        "25.00"))));
        stubItems(A, null, ok(items(A, null, item("SKU-1", "B00KETTLE1", "11111111111111", 1, "25.00", "Kettle"))));
        kafka = event -> {
            throw new IllegalStateException("Kafka did not take " + event.type().wireName() + " " + event.id()
                    + " (TimeoutException)");
        };

        assertThrows(PollFailed.class, () -> poller().poll());

        assertEquals(1, state.failures.size());
        assertTrue(state.failures.get(0).contains("Kafka did not take order.placed"), state.failures.get(0));
        amazon.verify(0, getRequestedFor(urlPathEqualTo(ORDERS)).withQueryParam("NextToken", equalTo(PAGE_TWO)));
    }

    // --- the poller, wired to the stub -------------------------------------------------------------------------

    AmazonOrdersPoller poller() {
        Map<String, String> settings = new HashMap<>();
        settings.put("hub.systems.amazon.access-token", TOKEN);
        settings.put("hub.systems.amazon.marketplace-ids", "ATVPDKIKX0DER");
        settings.put("hub.systems.amazon.page-attempts", "3");
        settings.put("hub.systems.amazon.page-initial-backoff-ms", "1");
        settings.put("hub.systems.amazon.page-max-backoff-ms", "5");
        settings.put("hub.systems.amazon.max-retry-wait-ms", "60000");
        Config config = new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(settings, "test", 100))
                .build();
        SystemConfig amazonConfig = new SystemConfig("amazon", amazon.baseUrl(), config, false);
        return new AmazonOrdersPoller(amazonConfig, new HttpVendor(), new HttpVendor(), e -> kafka.accept(e), state,
                Clock.fixed(NOW, ZoneOffset.UTC), waits::add);
    }

    /** Real HTTP calls (the JDK's client) instead of the Camel http component, no rate limit. */
    static final class HttpVendor extends VendorClient {
        static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();

        HttpVendor() {
            super(null, null, new RateLimiter(0, 0));
        }

        @Override
        public VendorAnswer call(VendorRequest request) {
            HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(request.url()))
                    .timeout(Duration.ofSeconds(10)).method(request.method(), HttpRequest.BodyPublishers.noBody());
            request.headers().forEach(builder::header);
            try {
                HttpResponse<String> response = HTTP.send(builder.build(), HttpResponse.BodyHandlers.ofString());
                Map<String, String> headers = new HashMap<>();
                response.headers().map().forEach((name, values) -> headers.put(name, values.get(0)));
                return new VendorAnswer(response.statusCode(), headers, response.body(), null, 1);
            } catch (IOException e) {
                return VendorAnswer.failure(e.getClass().getSimpleName(), 1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return VendorAnswer.failure("interrupted", 1);
            }
        }
    }

    /**
     * The feed's state without a database: the watermark the test sets, the failures recorded. Vetoed: it would inherit
     * FeedState's {@code @ApplicationScoped} and stand beside it as a second FeedState bean in the Quarkus tests.
     */
    @Vetoed
    static final class FakeState extends FeedState {
        String watermark;
        final List<String> failures = new ArrayList<>();

        FakeState() {
            super(noDatabase());
        }

        @Override
        public Optional<String> watermark(String feed) {
            assertEquals("amazon-orders", feed);
            return Optional.ofNullable(watermark);
        }

        @Override
        public void failed(String feed, String why) {
            failures.add(feed + ": " + why);
        }

        static DataSource noDatabase() {
            return (DataSource) Proxy.newProxyInstance(FakeState.class.getClassLoader(),
                    new Class<?>[] { DataSource.class }, (proxy, method, args) -> switch (method.getName()) {
                        case "toString" -> "no database";
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> throw new UnsupportedOperationException("no database in this test");
                    });
        }
    }

    // --- SP-API shapes --------------------------------------------------------------------------------------------

    MappingBuilder firstPage(String lastUpdatedAfter) {
        return get(urlPathEqualTo(ORDERS)).withQueryParam("MarketplaceIds", equalTo("ATVPDKIKX0DER"))
                .withQueryParam("LastUpdatedAfter", equalTo(lastUpdatedAfter))
                .withQueryParam("MaxResultsPerPage", equalTo("100")).withQueryParam("NextToken", absent())
                .withHeader("x-amz-access-token", equalTo(TOKEN)).withHeader("Accept", equalTo("application/json"));
    }

    MappingBuilder nextPage(String token) {
        return get(urlPathEqualTo(ORDERS)).withQueryParam("MarketplaceIds", equalTo("ATVPDKIKX0DER"))
                .withQueryParam("NextToken", equalTo(token)).withQueryParam("LastUpdatedAfter", absent())
                .withHeader("x-amz-access-token", equalTo(TOKEN));
    }

    MappingBuilder itemsOf(String orderId, String token) {
        return get(urlPathEqualTo(ORDERS + "/" + orderId + "/orderItems"))
                .withQueryParam("NextToken", token == null ? absent() : equalTo(token))
                .withHeader("x-amz-access-token", equalTo(TOKEN));
    }

    void stubOrders(MappingBuilder request, ResponseDefinitionBuilder answer) {
        amazon.stubFor(request.willReturn(answer));
    }

    void stubItems(String orderId, String token, ResponseDefinitionBuilder answer) {
        amazon.stubFor(itemsOf(orderId, token).willReturn(answer));
    }

    static ResponseDefinitionBuilder ok(JsonNode body) {
        return aResponse().withStatus(200).withHeader("Content-Type", "application/json").withBody(body.toString());
    }

    static ResponseDefinitionBuilder error(int status, String code) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.putArray("errors").addObject().put("code", code).put("message", "simulated " + code)
                .put("details", "");
        return aResponse().withStatus(status).withHeader("Content-Type", "application/json").withBody(body.toString());
    }

    static ObjectNode page(String nextToken, ObjectNode... orders) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        ObjectNode payload = body.putObject("payload");
        ArrayNode list = payload.putArray("Orders");
        for (ObjectNode order : orders) {
            list.add(order);
        }
        if (nextToken != null) {
            payload.put("NextToken", nextToken);
        }
        return body;
    }

    static ObjectNode order(String id, String purchased, String updated, String status, String email, String total) {
        ObjectNode order = Json.MAPPER.createObjectNode();
        order.put("AmazonOrderId", id).put("PurchaseDate", purchased).put("LastUpdateDate", updated)
                .put("OrderStatus", status).put("MarketplaceId", "ATVPDKIKX0DER");
        order.putObject("OrderTotal").put("CurrencyCode", "USD").put("Amount", total);
        ObjectNode buyer = order.putObject("BuyerInfo");
        if (email != null) {
            buyer.put("BuyerEmail", email);
        }
        return order;
    }

    static ObjectNode items(String orderId, String nextToken, ObjectNode... items) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        ObjectNode payload = body.putObject("payload");
        payload.put("AmazonOrderId", orderId);
        ArrayNode list = payload.putArray("OrderItems");
        for (ObjectNode item : items) {
            list.add(item);
        }
        if (nextToken != null) {
            payload.put("NextToken", nextToken);
        }
        return body;
    }

    static ObjectNode item(String sku, String asin, String itemId, int quantity, String price, String title) {
        ObjectNode item = Json.MAPPER.createObjectNode();
        item.put("ASIN", asin).put("OrderItemId", itemId).put("QuantityOrdered", quantity).put("Title", title);
        if (sku != null) {
            item.put("SellerSKU", sku);
        }
        item.putObject("ItemPrice").put("CurrencyCode", "USD").put("Amount", price);
        return item;
    }
}
