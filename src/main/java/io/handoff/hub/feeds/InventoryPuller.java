package io.handoff.hub.feeds;

import static io.handoff.hub.reconciliation.pullers.RoutePuller.pointer;
import static io.handoff.hub.reconciliation.pullers.RoutePuller.text;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.quarkus.main.events.AfterStart;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEvent.TimeSource;
import io.handoff.hub.event.EventType;
import io.handoff.hub.propagation.Backoff;
import io.handoff.hub.propagation.LaneSettings;
import io.handoff.hub.propagation.PropagationLanes;
import io.handoff.hub.propagation.RateLimiter;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.adapters.Requests;
import io.handoff.hub.scheduling.FireClaims;
import io.handoff.hub.support.Json;
import io.quarkus.runtime.configuration.DurationConverter;
import io.quarkus.scheduler.Scheduled.ConcurrentExecution;
import io.quarkus.scheduler.Scheduler;

/**
 * Batch inventory feeds connected in YAML only (the ERP): a route from the {@code paged-puller} template with
 * {@code flow: inventory-puller} ({@code direct:inventory-puller-<system>}, routes/erp-inventory-puller.yaml) calls
 * the system's stock list page by page and says, as JSON pointers, where each page holds its items, each item's SKU,
 * available quantity, location and time, and the next cursor. Every {@code hub.systems.<system>.inventory.poll-interval}
 * (default PT15M; one replica per interval slot) a run pages through the whole list, publishes each item as an
 * {@code inventory.changed} event of that system (its time the run's start: a stock list is current when read; the
 * item's own {@code updatedAt} goes in {@code changedAt}) (through the staleness filter and the store like any other), and ends
 * with a {@code feed.synced} heartbeat of the system's inventory feed (records, watermark = the newest item time,
 * duration). A failed page is asked again with the same cursor (backoff, Retry-After), up to
 * {@code hub.systems.<system>.inventory.page-attempts} (default 5); then the run fails: the feed's last failure is
 * recorded and no heartbeat is sent, so the feed ages and the detector sees it.
 */
@ApplicationScoped
public class InventoryPuller {

    private static final Logger LOG = Logger.getLogger(InventoryPuller.class);
    public static final String ENDPOINT_PREFIX = "direct:inventory-puller-";

    private final CamelContext camel;
    private final PropagationLanes lanes;
    private final LaneSettings laneSettings;
    private final FeedSettings feeds;
    private final FeedPublisher publisher;
    private final FeedState state;
    private final FireClaims claims;
    private final Scheduler scheduler;
    private final Clock clock = Clock.systemUTC();
    private final Map<String, VendorClient> clients = new LinkedHashMap<>();

    public InventoryPuller(CamelContext camel, PropagationLanes lanes, LaneSettings laneSettings, FeedSettings feeds,
            FeedPublisher publisher, FeedState state, FireClaims claims, Scheduler scheduler) {
        this.camel = camel;
        this.lanes = lanes;
        this.laneSettings = laneSettings;
        this.feeds = feeds;
        this.publisher = publisher;
        this.state = state;
        this.claims = claims;
        this.scheduler = scheduler;
    }

    /** What one run did. */
    public record Run(String feed, long records, String watermark, long durationMs) {
    }

    void start(@Observes AfterStart event) {
        for (Route route : camel.getRoutes()) {
            String uri = route.getEndpoint().getEndpointUri().replace("direct://", "direct:");
            if (!uri.startsWith(ENDPOINT_PREFIX)) {
                continue;
            }
            String system = uri.substring(ENDPOINT_PREFIX.length());
            Optional<SystemConfig> config = lanes.systemConfig(system);
            if (config.isEmpty()) {
                LOG.infof("inventory puller route %s is defined but hub.systems.%s.base-url is not set: not pulled",
                        route.getRouteId(), system);
                continue;
            }
            Duration interval = DurationConverter.parseDuration(config.get().value("inventory.poll-interval", "PT15M"));
            String job = "pull-inventory-" + system;
            scheduler.newJob(job).setInterval(interval.toString()).setDelayed(interval.toString())
                    .setConcurrentExecution(ConcurrentExecution.SKIP)
                    .setTask(execution -> {
                        if (claims.claim(job, FireClaims.slot(execution.getScheduledFireTime(), interval))) {
                            try {
                                pull(system);
                            } catch (RuntimeException e) {
                                LOG.warnf("%s inventory run failed: %s", system, e.getMessage());
                            }
                        }
                    }).schedule();
            LOG.infof("%s inventory is pulled every %s (feed %s)", system, interval, feedOf(system));
        }
    }

    /** The registry's inventory feed of the system (else {@code <system>-inventory}). */
    String feedOf(String system) {
        return feeds.feedOf(system, EventType.INVENTORY_CHANGED).map(FeedSettings.Feed::id)
                .orElse(system + "-inventory");
    }

    /** One run over the whole list. @throws IllegalStateException when a page or Kafka fails for good */
    public Run pull(String system) {
        SystemConfig config = lanes.systemConfig(system).orElseThrow(() -> new IllegalStateException(system
                + " is off"));
        String feed = feedOf(system);
        Instant started = clock.instant();
        long t0 = System.nanoTime();
        long records = 0;
        Instant newest = null;
        String cursor = null;
        int pages = 0;
        try {
            do {
                pages++;
                Exchange[] done = new Exchange[1];
                VendorAnswer answer = page(config, cursor, done);
                JsonNode body = Requests.body(answer);
                JsonNode items = body.at(pointer(done[0], "hubItemsPointer"));
                if (!items.isArray()) {
                    throw new IllegalStateException("page " + pages + " holds no item array at "
                            + pointer(done[0], "hubItemsPointer"));
                }
                for (JsonNode item : items) {
                    String sku = text(item, pointer(done[0], "hubSkuPointer"));
                    if (sku == null) {
                        continue;
                    }
                    // A stock list is a snapshot: current when it is read. The item's own time (when the stock last
                    // changed) travels in the data; an unchanged item is not stale for being unchanged.
                    Instant time = started;
                    Instant changed = time(text(item, pointer(done[0], "hubTimePointer")), null);
                    String location = text(item, pointer(done[0], "hubLocationPointer"));
                    JsonNode available = item.at(pointer(done[0], "hubAvailablePointer"));
                    ObjectNode data = Json.MAPPER.createObjectNode();
                    data.put("sku", sku);
                    data.put("locationId", location);
                    if (changed != null) {
                        data.put("changedAt", changed.toString());
                    }
                    if (available.canConvertToInt()) {
                        data.put("available", available.asInt());
                    } else {
                        data.putNull("available");
                    }
                    String key = "sku:" + sku;
                    publisher.publish(new CanonicalEvent(system + "-inventory:" + sku + ":" + (location == null ? "*"
                            : location) + ":" + time.toEpochMilli(), "/systems/" + system, EventType.INVENTORY_CHANGED,
                            key, time, clock.instant(), TimeSource.DELIVERY, Map.of(), data, key));
                    records++;
                    if (changed != null && (newest == null || changed.isAfter(newest))) {
                        newest = changed;
                    }
                }
                String next = text(body, pointer(done[0], "hubNextPointer"));
                if (next != null && next.equals(cursor)) {
                    throw new IllegalStateException("page " + pages + " answered its own cursor again");
                }
                cursor = next;
            } while (cursor != null);
            long durationMs = (System.nanoTime() - t0) / 1_000_000;
            String watermark = (newest == null ? started : newest).toString();
            ObjectNode heartbeat = Json.MAPPER.createObjectNode().put("feed", feed).put("records", records)
                    .put("watermark", watermark).put("durationMs", durationMs).put("startedAt", started.toString());
            String key = "feed:" + feed;
            publisher.publish(new CanonicalEvent(feed + ":" + started.toEpochMilli(), "/systems/" + system,
                    EventType.FEED_SYNCED, key, clock.instant(), clock.instant(), TimeSource.RECEIVED, Map.of(),
                    heartbeat, key));
            LOG.infof("%s: %d inventory records in %d pages (%d ms)", feed, records, pages, durationMs);
            return new Run(feed, records, watermark, durationMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            state.failed(feed, "interrupted on page " + pages);
            throw new IllegalStateException("interrupted", e);
        } catch (RuntimeException e) {
            state.failed(feed, "page " + pages + ": " + e.getMessage());
            throw e;
        }
    }

    /** One page, asked again with the same cursor while it fails in a way a retry can fix. */
    private VendorAnswer page(SystemConfig config, String cursor, Exchange[] done) throws InterruptedException {
        int attempts = Math.max(1, config.intValue("inventory.page-attempts", 5));
        Backoff backoff = new Backoff(Duration.ofMillis(config.intValue("inventory.page-initial-backoff-ms", 1000)),
                Duration.ofSeconds(30));
        String credential = config.optional("api-key").orElse(config.sandbox() ? "sandbox" : "");
        for (int attempt = 1;; attempt++) {
            VendorAnswer answer = client(config).send(ENDPOINT_PREFIX + config.name(), exchange -> {
                exchange.setProperty("hubBaseUrl", config.url(""));
                exchange.setProperty("hubCredential", credential);
                exchange.setProperty("hubCursor", cursor == null ? "" : URLEncoder.encode(cursor,
                        StandardCharsets.UTF_8));
            }, result -> done[0] = result);
            if (answer.success()) {
                return answer;
            }
            String why = answer.status() == 0 ? answer.error() : "HTTP " + answer.status();
            if (!answer.retryable() || attempt >= attempts) {
                throw new IllegalStateException(why + " after " + attempt + " attempt(s)");
            }
            Duration wait = backoff.after(attempt, answer.retryAfter(clock.instant()).orElse(null));
            LOG.infof("%s inventory page failed (%s): asking for it again in %d ms", config.name(), why,
                    wait.toMillis());
            TimeUnit.MILLISECONDS.sleep(wait.toMillis());
        }
    }

    private synchronized VendorClient client(SystemConfig config) {
        return clients.computeIfAbsent(config.name(), name -> new VendorClient(camel.createProducerTemplate(),
                "http://" + name + "-inventory?throwExceptionOnFailure=false", new RateLimiter(
                        config.intValue("inventory.rate-limit.per-second", 0),
                        config.intValue("inventory.rate-limit.per-minute", 0))));
    }

    /** An item's time (RFC 3339 with an offset); the run's start when it has none or it cannot be read. */
    static Instant time(String text, Instant otherwise) {
        if (text == null) {
            return otherwise;
        }
        try {
            return Json.instant(text);
        } catch (IllegalArgumentException e) {
            return otherwise;
        }
    }
}
