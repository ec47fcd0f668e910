package io.handoff.hub.feeds.amazon;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.camel.CamelContext;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEvent.TimeSource;
import io.handoff.hub.event.CustomerRefs;
import io.handoff.hub.event.EventType;
import io.handoff.hub.feeds.FeedPublisher;
import io.handoff.hub.feeds.FeedState;
import io.handoff.hub.propagation.Backoff;
import io.handoff.hub.propagation.LaneSettings;
import io.handoff.hub.propagation.PropagationLanes;
import io.handoff.hub.propagation.RateLimiter;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.adapters.Requests;
import io.handoff.hub.support.Json;

/**
 * The {@code amazon-orders} feed: polls the Amazon Selling Partner API, Orders API v0. One {@link #poll()}:
 * <ol>
 * <li>{@code GET /orders/v0/orders?MarketplaceIds=..&LastUpdatedAfter=..&MaxResultsPerPage=100}, then
 * {@code ?MarketplaceIds=..&NextToken=..} until the answer has no {@code payload.NextToken};</li>
 * <li>per order, {@code GET /orders/v0/orders/{AmazonOrderId}/orderItems} (and its own {@code NextToken} pages);</li>
 * <li>per order, one {@code order.placed} event published with {@link FeedPublisher} (id
 * {@code amazon:<AmazonOrderId>:<LastUpdateDate>}, so polling the same version of an order again gives the same id;
 * time = {@code PurchaseDate});</li>
 * <li>at the end, one {@code feed.synced} heartbeat with the records, the watermark (the largest
 * {@code LastUpdateDate} seen; the previous one if there were no orders) and the duration.</li>
 * </ol>
 * {@code LastUpdatedAfter} is the watermark of the last successful run ({@link FeedState#watermark}, which only the
 * heartbeat advances), or now minus {@code initial-lookback} before the first one; SP-API refuses a value later than
 * two minutes before the request, so it is capped there. A page that fails (no answer, 429, 5xx) is asked again with
 * the same cursor, with backoff and the vendor's wait (Retry-After, else the {@code x-amzn-RateLimit-Limit} rate),
 * bounded; a page that still fails, a 4xx, or Kafka refusing an event fails the run: {@link FeedState#failed} is
 * recorded and {@link PollFailed} thrown. Orders published before the failure stay (their ids are stable); the next run
 * starts from the old watermark again.
 * <p>
 * Settings ({@code hub.systems.amazon.*}, env {@code HUB_SYSTEMS_AMAZON_*}): {@code base-url} (e.g.
 * {@code https://sellingpartnerapi-na.amazon.com}), {@code access-token} (the LWA access token, sent as
 * {@code x-amz-access-token}), {@code marketplace-ids} (comma list, required outside the sandbox),
 * {@code initial-lookback} (ISO-8601, default P1D), {@code page-size} (1-100, default 100),
 * {@code response-timeout-ms}, {@code page-attempts} (default 5), {@code page-initial-backoff-ms} (2000),
 * {@code page-max-backoff-ms} (60000), {@code max-retry-wait-ms} (longest wait a 429 may ask for, 90000), and the
 * quotas {@code rate-limit.get-orders.burst / .rate} (20, 0.0167 requests per second) and
 * {@code rate-limit.get-order-items.burst / .rate} (30, 0.5), per replica. Never logs a buyer's email.
 */
@ApplicationScoped
public class AmazonOrdersPoller {

    private static final Logger LOG = Logger.getLogger(AmazonOrdersPoller.class);

    public static final String SYSTEM = "amazon";
    public static final String FEED = "amazon-orders";
    public static final String SOURCE = "/systems/" + SYSTEM;
    static final String ORDERS_PATH = "/orders/v0/orders";
    /** SP-API refuses a LastUpdatedAfter later than this before the request. */
    static final Duration NEWEST_ALLOWED = Duration.ofMinutes(2);
    static final String DEFAULT_MARKETPLACE = "ATVPDKIKX0DER";

    /** One successful run: the orders published, the watermark its heartbeat carried, how long it took. */
    public record Run(int orders, String watermark, long durationMs) {
    }

    /** A run that failed (recorded with {@link FeedState#failed}); the message names no customer. */
    public static class PollFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public PollFailed(String why, Throwable cause) {
            super(why, cause);
        }
    }

    /** How the poller waits between tries of a page (a seam for tests). */
    @FunctionalInterface
    interface Sleeper {
        void sleep(Duration wait) throws InterruptedException;
    }

    /** The settings and clients of a switched-on Amazon, made when first polled. */
    /** How far before the watermark each run asks again (orders listed late). */
    static final Duration OVERLAP = Duration.ofMinutes(2);

    private record Wiring(SystemConfig config, VendorClient orders, VendorClient items, Map<String, String> headers,
            String marketplaces, Duration initialLookback, int pageSize, int attempts, Backoff backoff,
            Duration maxRetryWait) {
    }

    /** A page that failed for good (after its tries, or at once for an answer no retry changes). */
    private static final class Failed extends Exception {
        private static final long serialVersionUID = 1L;

        Failed(String why) {
            super(why);
        }
    }

    private final CamelContext camel;
    private final PropagationLanes lanes;
    private final LaneSettings laneSettings;
    private final Consumer<CanonicalEvent> publisher;
    private final FeedState state;
    private final Clock clock;
    private final Sleeper sleeper;
    private Wiring wiring;

    @Inject
    public AmazonOrdersPoller(CamelContext camel, PropagationLanes lanes, LaneSettings laneSettings,
            FeedPublisher publisher, FeedState state) {
        this.camel = camel;
        this.lanes = lanes;
        this.laneSettings = laneSettings;
        this.publisher = publisher::publish;
        this.state = state;
        this.clock = Clock.systemUTC();
        this.sleeper = wait -> Thread.sleep(Math.max(0, wait.toMillis()));
    }

    /** For tests: a fixed Amazon, its two clients, and where events go. */
    AmazonOrdersPoller(SystemConfig config, VendorClient orders, VendorClient items, Consumer<CanonicalEvent> publisher,
            FeedState state, Clock clock, Sleeper sleeper) {
        this.camel = null;
        this.lanes = null;
        this.laneSettings = null;
        this.publisher = publisher;
        this.state = state;
        this.clock = clock;
        this.sleeper = sleeper;
        this.wiring = wire(config, orders, items);
    }

    /**
     * Runs one poll (one at a time per replica).
     *
     * @throws PollFailed if the vendor failed after the retries, answered what no retry changes, or Kafka refused an
     *         event (the failure is recorded in the feed's state first)
     * @throws IllegalStateException if Amazon is not switched on ({@code hub.systems.amazon.base-url})
     */
    public synchronized Run poll() {
        Wiring w;
        try {
            w = wiring();
        } catch (RuntimeException misconfigured) {
            // A missing credential or marketplace, a bad duration: the message names the setting, never data.
            throw fail("not configured: " + shorten(misconfigured.getMessage()), misconfigured);
        }
        if (w == null) {
            throw new IllegalStateException(SYSTEM + " is off: hub.systems.amazon.base-url is not set");
        }
        Instant startedAt = clock.instant();
        long started = System.nanoTime();
        int orders = 0;
        int pages = 0;
        try {
            Optional<String> previous = state.watermark(FEED).filter(s -> !s.isBlank());
            Instant seen = previous.map(AmazonOrdersPoller::instant).orElse(null);
            // Asked from a little before the watermark: an order Amazon lists late, with an update time just below
            // the last run's newest, is still read (its id is stable: storing it again is an upsert).
            Instant after = lastUpdatedAfter(seen == null ? previous : Optional.of(seen.minus(OVERLAP).toString()),
                    startedAt, w.initialLookback());
            Instant newest = null;
            String cursor = null;
            do {
                String url = cursor == null
                        ? w.config().url(ORDERS_PATH + "?MarketplaceIds=" + w.marketplaces() + "&LastUpdatedAfter="
                                + encode(after.toString()) + "&MaxResultsPerPage=" + w.pageSize())
                        : w.config().url(ORDERS_PATH + "?MarketplaceIds=" + w.marketplaces() + "&NextToken="
                                + encode(cursor));
                pages++;
                JsonNode payload = fetch(w, w.orders(), url, "getOrders page " + pages);
                if (!payload.path("Orders").isArray()) {
                    throw new Failed("getOrders page " + pages + " answered without payload.Orders");
                }
                for (JsonNode order : payload.path("Orders")) {
                    String orderId = Json.text(order, "AmazonOrderId");
                    if (orderId == null || orderId.isBlank()) {
                        LOG.warnf("%s: getOrders page %d listed an order without AmazonOrderId: skipped", FEED, pages);
                        continue;
                    }
                    Instant updated = instant(Json.text(order, "LastUpdateDate"));
                    List<JsonNode> items = items(w, orderId);
                    publisher.accept(orderPlaced(order, items, clock.instant()));
                    // Only what is newer than the last run's newest is news (the records the heartbeat reports).
                    if (seen == null || updated == null || updated.isAfter(seen)) {
                        orders++;
                    }
                    if (updated != null && (newest == null || updated.isAfter(newest))) {
                        newest = updated;
                    }
                }
                String next = Json.text(payload, "NextToken");
                if (next != null && next.equals(cursor)) {
                    throw new Failed("getOrders page " + pages + " answered its own NextToken again");
                }
                cursor = next == null || next.isEmpty() ? null : next;
            } while (cursor != null);
            // Never back: an order re-read in the overlap is older than the last watermark.
            String watermark = newest != null && (seen == null || newest.isAfter(seen)) ? newest.toString()
                    : previous.filter(p -> instant(p) != null).orElse(after.toString());
            long durationMs = (System.nanoTime() - started) / 1_000_000;
            publisher.accept(feedSynced(startedAt, clock.instant(), orders, watermark, durationMs));
            LOG.infof("%s: %d orders updated after %s in %d pages, watermark %s (%d ms)", FEED, orders, after, pages,
                    watermark, durationMs);
            return new Run(orders, watermark, durationMs);
        } catch (Failed e) {
            throw fail(e.getMessage() + " (" + orders + " orders published before)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw fail("interrupted while waiting to ask again (" + orders + " orders published before)", e);
        } catch (IllegalStateException kafka) {
            // FeedPublisher: Kafka did not take an event. Its message names the event (type and id), not a customer.
            throw fail(shorten(kafka.getMessage()) + " (" + orders + " orders published before)", kafka);
        } catch (RuntimeException e) {
            // Anything else: only its kind (a message could quote a payload).
            throw fail(e.getClass().getSimpleName() + " after " + orders + " orders", e);
        }
    }

    private PollFailed fail(String why, Throwable cause) {
        LOG.warnf("%s poll failed: %s", FEED, why);
        try {
            state.failed(FEED, why);
        } catch (RuntimeException e) {
            LOG.errorf("%s: the failure could not be recorded (%s)", FEED, e.getClass().getSimpleName());
        }
        return new PollFailed(why, cause);
    }

    /** The order's items, all their pages. */
    private List<JsonNode> items(Wiring w, String orderId) throws Failed, InterruptedException {
        List<JsonNode> items = new ArrayList<>();
        String base = w.config().url(ORDERS_PATH + "/" + encode(orderId) + "/orderItems");
        String cursor = null;
        int page = 0;
        do {
            page++;
            String url = cursor == null ? base : base + "?NextToken=" + encode(cursor);
            JsonNode payload = fetch(w, w.items(), url, "getOrderItems of " + orderId + " page " + page);
            if (!payload.path("OrderItems").isArray()) {
                throw new Failed("getOrderItems of " + orderId + " answered without payload.OrderItems");
            }
            payload.path("OrderItems").forEach(items::add);
            String next = Json.text(payload, "NextToken");
            if (next != null && next.equals(cursor)) {
                throw new Failed("getOrderItems of " + orderId + " answered its own NextToken again");
            }
            cursor = next == null || next.isEmpty() ? null : next;
        } while (cursor != null);
        return items;
    }

    /**
     * One page's {@code payload}: the same URL (same cursor) is asked again after a retryable answer, waiting the
     * backoff or the vendor's wait if longer, at most {@code max-retry-wait-ms}.
     */
    private JsonNode fetch(Wiring w, VendorClient client, String url, String what) throws Failed, InterruptedException {
        for (int attempt = 1;; attempt++) {
            VendorAnswer answer = client.call(Requests.json("GET", url, w.headers(), "application/json", null));
            if (answer.success()) {
                JsonNode payload = Requests.body(answer).path("payload");
                if (!payload.isObject()) {
                    throw new Failed(what + " answered " + answer.status() + " without a payload");
                }
                return payload;
            }
            if (!answer.retryable()) {
                throw new Failed(what + " refused: " + describe(answer));
            }
            if (attempt >= w.attempts()) {
                throw new Failed(what + " failed after " + attempt + " tries: " + describe(answer));
            }
            Duration wait = w.backoff().after(attempt, requestedWait(answer, clock.instant()).orElse(null));
            if (wait.compareTo(w.maxRetryWait()) > 0) {
                wait = w.maxRetryWait();
            }
            LOG.infof("%s: %s answered %s: asking for the same page again in %d ms (try %d of %d)", FEED, what,
                    describe(answer), wait.toMillis(), attempt + 1, w.attempts());
            sleeper.sleep(wait);
        }
    }

    /**
     * The wait a throttled answer asks for: {@code Retry-After} if given, else, on a 429, one request's worth of the
     * rate SP-API reports in {@code x-amzn-RateLimit-Limit} (requests per second).
     */
    static Optional<Duration> requestedWait(VendorAnswer answer, Instant now) {
        Optional<Duration> retryAfter = answer.retryAfter(now);
        if (retryAfter.isPresent() || answer.status() != 429) {
            return retryAfter;
        }
        return answer.header("x-amzn-RateLimit-Limit").flatMap(limit -> {
            try {
                double perSecond = Double.parseDouble(limit.strip());
                return perSecond > 0 && Double.isFinite(perSecond)
                        ? Optional.of(Duration.ofMillis((long) Math.ceil(1000 / perSecond)))
                        : Optional.empty();
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
    }

    /** "429 QuotaExceeded", "500 InternalFailure", or the I/O error: no payload text (it could name a buyer). */
    static String describe(VendorAnswer answer) {
        if (answer.status() == 0) {
            return shorten(answer.summary());
        }
        JsonNode errors = Requests.body(answer).path("errors");
        String code = errors.isArray() && errors.size() > 0 ? Json.text(errors.get(0), "code") : null;
        return answer.status() + (code == null ? "" : " " + code.replaceAll("[^A-Za-z0-9_.-]", "?"));
    }

    private static String shorten(String text) {
        return text == null ? "" : text.length() <= 200 ? text : text.substring(0, 199) + "…";
    }

    /** The watermark, else now minus the look-back; never later than two minutes before now (SP-API's rule). */
    static Instant lastUpdatedAfter(Optional<String> watermark, Instant now, Duration initialLookback) {
        Instant from = watermark.map(AmazonOrdersPoller::instant).orElse(null);
        if (from == null) {
            if (watermark.isPresent()) {
                LOG.warnf("%s: the stored watermark is not an ISO-8601 time: starting %s back", FEED, initialLookback);
            }
            from = now.minus(initialLookback);
        }
        Instant newest = now.minus(NEWEST_ALLOWED);
        return (from.isAfter(newest) ? newest : from).truncatedTo(ChronoUnit.SECONDS);
    }

    /** The {@code order.placed} event of one order and its items. */
    static CanonicalEvent orderPlaced(JsonNode order, List<JsonNode> items, Instant receivedAt) {
        String orderId = Json.text(order, "AmazonOrderId");
        String updatedText = Json.text(order, "LastUpdateDate");
        Instant updated = instant(updatedText);
        Instant purchased = instant(Json.text(order, "PurchaseDate"));
        String status = Json.text(order, "OrderStatus");

        ObjectNode data = Json.MAPPER.createObjectNode();
        ObjectNode o = data.putObject("order");
        o.put("id", orderId);
        o.put("channel", SYSTEM);
        JsonNode total = order.path("OrderTotal");
        putIfPresent(o, "currency", Json.text(total, "CurrencyCode"));
        putIfPresent(o, "totalPrice", decimal(Json.text(total, "Amount")));
        putIfPresent(o, "fulfillmentStatus", status);
        if ("Canceled".equalsIgnoreCase(status) && updated != null) {
            // SP-API keeps no cancel time: the last update is when it was (at the latest) cancelled.
            o.put("cancelledAt", updated.toString());
        }
        ObjectNode customer = customer(Json.text(order.path("BuyerInfo"), "BuyerEmail"));
        if (customer == null) {
            data.putNull("customer");
        } else {
            data.set("customer", customer);
        }
        ArrayNode lines = data.putArray("lines");
        for (JsonNode item : items) {
            ObjectNode line = lines.addObject();
            putIfPresent(line, "id", Json.text(item, "OrderItemId"));
            String sku = Json.text(item, "SellerSKU");
            line.put("sku", sku == null || sku.isBlank() ? Json.text(item, "ASIN") : sku);
            JsonNode quantity = item.path("QuantityOrdered");
            line.put("quantity", quantity.canConvertToInt() && quantity.asInt() >= 0 ? quantity.asInt() : 0);
            putIfPresent(line, "price", decimal(Json.text(item.path("ItemPrice"), "Amount")));
            putIfPresent(line, "title", Json.text(item, "Title"));
        }
        String key = customer != null ? CustomerRefs.key(customer) : SYSTEM + ":order:" + orderId;
        String version = updated != null ? updated.toString() : updatedText != null ? updatedText
                : purchased != null ? purchased.toString() : "unknown";
        return new CanonicalEvent(SYSTEM + ":" + orderId + ":" + version, SOURCE, EventType.ORDER_PLACED, key,
                purchased != null ? purchased : receivedAt, receivedAt,
                purchased != null ? TimeSource.PAYLOAD : TimeSource.RECEIVED, Map.of(), data, key);
    }

    /** The {@code feed.synced} heartbeat of a run that ended well at {@code now}. */
    static CanonicalEvent feedSynced(Instant startedAt, Instant now, int records, String watermark, long durationMs) {
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.put("feed", FEED);
        data.put("records", records);
        data.put("watermark", watermark);
        data.put("durationMs", durationMs);
        data.put("startedAt", startedAt.toString());
        String key = "feed:" + FEED;
        return new CanonicalEvent(FEED + ":" + startedAt.toEpochMilli(), SOURCE, EventType.FEED_SYNCED, key, now, now,
                TimeSource.RECEIVED, Map.of(), data, key);
    }

    /** The buyer's customerRef, or null if SP-API gave no usable email (it only does with buyer-info access). */
    private static ObjectNode customer(String email) {
        if (email == null || email.length() > 320 || !email.strip().matches("[^@\\s]+@[^@\\s]+")) {
            return null;
        }
        ObjectNode ref = CustomerRefs.of(email, null, null, null);
        return CustomerRefs.identifies(ref) ? ref : null;
    }

    private static String decimal(String amount) {
        return amount != null && amount.strip().matches("-?\\d+(\\.\\d+)?") ? amount.strip() : null;
    }

    private static void putIfPresent(ObjectNode node, String field, String value) {
        if (value != null) {
            node.put(field, value);
        }
    }

    static Instant instant(String text) {
        try {
            return Json.instant(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** The wiring, made when first needed; null while Amazon is off. */
    private synchronized Wiring wiring() {
        if (wiring == null) {
            Optional<SystemConfig> on = lanes.systemConfig(SYSTEM);
            if (on.isEmpty()) {
                return null;
            }
            SystemConfig c = on.get();
            String http = "http://amazon-orders?throwExceptionOnFailure=false&connectTimeout="
                    + laneSettings.connectTimeoutMs() + "&responseTimeout="
                    + c.intValue("response-timeout-ms", (int) laneSettings.responseTimeoutMs())
                    + "&connectionRequestTimeout=" + laneSettings.connectTimeoutMs();
            var template = camel.createProducerTemplate();
            // Each replica keeps its own buckets, carried from run to run as SP-API's are.
            wiring = wire(c, new VendorClient(template, http, limiter(c, "get-orders", 20, 0.0167)),
                    new VendorClient(template, http, limiter(c, "get-order-items", 30, 0.5)));
        }
        return wiring;
    }

    private static Wiring wire(SystemConfig c, VendorClient orders, VendorClient items) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-amz-access-token", c.required("access-token"));
        String ids = c.sandbox() ? c.value("marketplace-ids", DEFAULT_MARKETPLACE) : c.required("marketplace-ids");
        List<String> marketplaces = new ArrayList<>();
        for (String id : ids.split(",")) {
            if (!id.isBlank()) {
                marketplaces.add(encode(id.strip()));
            }
        }
        if (marketplaces.isEmpty()) {
            throw new IllegalStateException(c.key("marketplace-ids") + " names no marketplace");
        }
        Duration lookback = Duration.parse(c.value("initial-lookback", "P1D"));
        int pageSize = Math.max(1, Math.min(100, c.intValue("page-size", 100)));
        Backoff backoff = new Backoff(Duration.ofMillis(c.intValue("page-initial-backoff-ms", 2000)),
                Duration.ofMillis(c.intValue("page-max-backoff-ms", 60_000)));
        return new Wiring(c, orders, items, Map.copyOf(headers), String.join(",", marketplaces), lookback, pageSize,
                Math.max(1, c.intValue("page-attempts", 5)), backoff,
                Duration.ofMillis(c.intValue("max-retry-wait-ms", 90_000)));
    }

    /**
     * SP-API's token bucket ({@code burst} tokens, refilled at {@code rate} per second) as a {@link RateLimiter}: at
     * most {@code burst} calls in a second, a bucket of {@code burst} tokens refilled by {@code rate x 60} a minute.
     */
    static RateLimiter limiter(SystemConfig c, String operation, int defaultBurst, double defaultRate) {
        String prefix = "rate-limit." + operation + ".";
        int burst = Math.max(1, c.intValue(prefix + "burst", defaultBurst));
        double rate = c.optional(prefix + "rate").map(Double::parseDouble).orElse(defaultRate);
        return new RateLimiter(burst, burst + (int) Math.max(1, Math.round(rate * 60)));
    }
}
