package io.handoff.hub.feeds;

import java.time.Duration;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.feeds.FeedSettings.Feed;
import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.identity.IdentityResolver.CustomerRef;
import io.handoff.hub.support.Json;

/**
 * The feed side of every order, inventory, loyalty, promotion, waitlist and {@code feed.synced} event:
 * <ul>
 * <li>{@link #mark}, the staleness filter step ({@code direct:staleness-filter}, routes/staleness-filter.yaml): finds
 * the event's feed in the registry and marks the record with its age against the feed's tolerance (headers
 * {@code handoff_feed}, {@code handoff_age_ms}, {@code handoff_tolerance_ms}, {@code handoff_stale}); a stale event of
 * a time-sensitive feed is diverted ({@code handoff_stale_reason}) to the stale topic instead of passing as
 * current;</li>
 * <li>{@link #store}: updates the feed's freshness and stores the data segments are evaluated from.</li>
 * </ul>
 */
@ApplicationScoped
@Named("feedIntake")
public class FeedIntake {

    private static final Logger LOG = Logger.getLogger(FeedIntake.class);
    public static final String EVENT = "hubFeedEvent";
    public static final String FEED = "handoff_feed";
    public static final String AGE_MS = "handoff_age_ms";
    public static final String TOLERANCE_MS = "handoff_tolerance_ms";
    public static final String STALE = "handoff_stale";
    public static final String STALE_REASON = "handoff_stale_reason";
    public static final String DIVERTED = "hubDiverted";

    private final CanonicalEventCodec codec;
    private final FeedSettings settings;
    private final FeedState state;
    private final FeedStore store;
    private final IdentityResolver identity;

    public FeedIntake(CanonicalEventCodec codec, FeedSettings settings, FeedState state, FeedStore store,
            IdentityResolver identity) {
        this.codec = codec;
        this.settings = settings;
        this.state = state;
        this.store = store;
        this.identity = identity;
    }

    /** The staleness filter: marks the record; a stale event bound for time-sensitive consumers is diverted. */
    public void mark(Exchange exchange) {
        CanonicalEvent event = codec.read(exchange);
        exchange.setProperty(EVENT, event);
        Optional<Feed> feed = settings.feedOf(system(event), event.type());
        exchange.setProperty(DIVERTED, false);
        if (feed.isEmpty()) {
            return;
        }
        Feed f = feed.get();
        Duration age = Duration.between(event.time(), event.receivedAt());
        boolean stale = age.compareTo(f.tolerance()) > 0;
        var message = exchange.getMessage();
        message.setHeader(FEED, f.id());
        message.setHeader(AGE_MS, Long.toString(Math.max(0, age.toMillis())));
        message.setHeader(TOLERANCE_MS, Long.toString(f.tolerance().toMillis()));
        message.setHeader(STALE, Boolean.toString(stale));
        if (stale && f.timeSensitive()) {
            String reason = "event of " + f.id() + " is " + FeedStatus.human(age) + " old at receipt, tolerance "
                    + FeedStatus.human(f.tolerance()) + ": not passed on as current";
            message.setHeader(STALE_REASON, reason);
            exchange.setProperty(DIVERTED, true);
            state.stale(f.id());
            // It arrived, late: it counts towards the feed's lag, so the feed shows stale.
            state.event(f.id(), event.time(), event.receivedAt());
            LOG.infof("%s %s diverted to the stale topic: %s", event.type().wireName(), event.id(), reason);
        }
    }

    /** Updates the feed's freshness and stores the event's data (after {@link #mark}). */
    public void store(Exchange exchange) {
        CanonicalEvent event = exchange.getProperty(EVENT, CanonicalEvent.class);
        if (event == null) {
            event = codec.read(exchange);
        }
        store(event);
    }

    public void store(CanonicalEvent event) {
        String system = system(event);
        ObjectNode data = event.data();
        switch (event.type()) {
            case FEED_SYNCED -> {
                // A run's heartbeat: its time is when the run ended well. Only the feed's own system may report it.
                String feed = data.path("feed").asText();
                if (settings.feed(feed).filter(f -> f.system().equals(system)).isEmpty()) {
                    LOG.warnf("feed.synced %s from %s names feed %s, which is not a feed of %s in %s: ignored",
                            event.id(), system, feed, system, FeedSettings.FILE);
                    return;
                }
                state.synced(feed, event.time(), data.path("records").asLong(),
                        text(data, "watermark"), data.path("durationMs").isNumber() ? data.get("durationMs").asLong()
                                : null);
                return;
            }
            case ORDER_PLACED -> store.order(system, customer(data.get("customer")), event.time(), event.id(), data);
            case INVENTORY_CHANGED -> store.inventory(system, event.time(), data);
            case WAITLIST_JOINED -> {
                String hubId = customer(data.get("customer"));
                if (hubId == null) {
                    LOG.warnf("waitlist.joined %s from %s names no customer the hub can resolve: not stored", event.id(),
                            system);
                    return;
                }
                store.waitlist(hubId, data.path("sku").asText(), event.time(), system);
            }
            case LOYALTY_TIER_CHANGED -> {
                String hubId = customer(data.get("customer"));
                if (hubId != null) {
                    store.loyaltyTier(hubId, data.hasNonNull("program") ? data.get("program").asText() : "default",
                            data.path("tier").asText(), data.path("points").isNumber() ? data.get("points").asLong()
                                    : null, event.time());
                }
            }
            case PROMOTION_ELIGIBILITY_CHANGED -> {
                String hubId = customer(data.get("customer"));
                if (hubId != null) {
                    store.promotion(hubId, data.path("promotionId").asText(), data.path("eligible").asBoolean(),
                            data.hasNonNull("validUntil") ? Json.instant(data.get("validUntil").asText()) : null,
                            event.time());
                }
            }
            default -> {
                return;
            }
        }
        settings.feedOf(system, event.type()).ifPresent(f -> state.event(f.id(), event.time(), event.receivedAt()));
    }

    private String customer(JsonNode ref) {
        if (ref == null || !ref.isObject()) {
            return null;
        }
        CustomerRef customer = CustomerRef.of(ref);
        return customer.identifiesSomeone() ? identity.resolve(customer).hubId() : null;
    }

    static String system(CanonicalEvent event) {
        return event.source().startsWith("/systems/") ? event.source().substring("/systems/".length())
                : event.source();
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }
}
