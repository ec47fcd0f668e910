package io.handoff.hub.segments;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.springframework.jdbc.core.JdbcTemplate;

import io.handoff.hub.feeds.FeedMonitor;
import io.handoff.hub.feeds.FeedStatus;
import io.handoff.hub.persistence.Sql;
import io.handoff.hub.segments.SegmentSettings.Segment;

/**
 * Evaluates a segment at send time, from the hub's current data, never from a cached import: first the freshness of
 * every feed it depends on (any feed not fresh holds it, naming the feeds), then its rule in SQL. Members must be
 * marketable per the consent ledger (subscribed on the segment's channel and purpose): anyone else never appears.
 * <ul>
 * <li><b>back-in-stock</b> (parameter {@code sku} optional): customers waitlisted for a SKU that is in stock again
 * (some location has it available), minus those who bought that SKU in any channel since they joined the
 * waitlist;</li>
 * <li><b>loyalty-tier</b> (parameters {@code tier}, {@code program} default {@code default}, {@code promotion}
 * optional): customers in the tier, and, with a promotion, eligible for it (and not past its validity).</li>
 * </ul>
 */
@ApplicationScoped
public class SegmentEvaluator {

    public static final Set<String> RULES = Set.of("back-in-stock", "loyalty-tier");

    private final JdbcTemplate jdbc;
    private final FeedMonitor monitor;
    private final Clock clock = Clock.systemUTC();

    public SegmentEvaluator(@Named("hubDataSource") DataSource dataSource, FeedMonitor monitor) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.monitor = monitor;
    }

    public record Member(String hubId, String email, String sku) {
    }

    /** READY with the members, or HELD with the feeds that are not fresh (members empty). */
    public record Result(String segment, boolean held, Instant asOf, List<FeedStatus> feeds, List<Member> members,
            long evaluationMs) {

        public List<FeedStatus> staleFeeds() {
            return feeds.stream().filter(f -> !f.fresh()).toList();
        }
    }

    public Result evaluate(Segment segment, Map<String, String> overrides) {
        Instant asOf = clock.instant();
        long started = System.nanoTime();
        List<FeedStatus> feeds = new ArrayList<>();
        for (String feed : segment.feeds()) {
            monitor.status(feed).ifPresent(feeds::add);
        }
        if (feeds.stream().anyMatch(f -> !f.fresh())) {
            return new Result(segment.id(), true, asOf, feeds, List.of(), (System.nanoTime() - started) / 1_000_000);
        }
        Map<String, String> parameters = new HashMap<>(segment.parameters());
        parameters.putAll(overrides);
        List<Member> members = switch (segment.rule()) {
            case "back-in-stock" -> backInStock(segment, parameters.get("sku"));
            case "loyalty-tier" -> loyaltyTier(segment, parameters, asOf);
            default -> throw new IllegalStateException("no rule " + segment.rule());
        };
        return new Result(segment.id(), false, asOf, feeds, members, (System.nanoTime() - started) / 1_000_000);
    }

    private static final String MARKETABLE = " JOIN consent_state s ON s.hub_id = c.hub_id AND s.channel = ?"
            + " AND s.purpose = ? AND s.state = 'subscribed'";

    List<Member> backInStock(Segment segment, String sku) {
        List<Object> args = new ArrayList<>();
        // From the SKUs in stock to their waitlists (the smallest side first), then per customer: marketable, and no
        // order of that SKU in any channel since joining (the customer's orders by index, then that order's lines).
        String sql = "SELECT c.hub_id, c.email, w.sku FROM feed_inventory i JOIN feed_waitlist w ON w.sku = i.item"
                + " JOIN customer c ON c.hub_id = w.hub_id WHERE i.available > 0 AND c.merged_into IS NULL";
        if (sku != null && !sku.isBlank()) {
            sql += " AND i.item = ?";
            args.add(sku);
        }
        sql += " AND EXISTS (SELECT 1 FROM consent_state s WHERE s.hub_id = w.hub_id AND s.channel = ? AND s.purpose = ?"
                + " AND s.state = 'subscribed')"
                + " AND NOT EXISTS (SELECT 1 FROM feed_order o WHERE o.hub_id = w.hub_id AND o.placed_at >= w.joined_at"
                + " AND (o.status IS NULL OR o.status <> 'cancelled') AND EXISTS (SELECT 1 FROM feed_order_line l WHERE l.system = o.system AND l.order_id = o.order_id"
                + " AND l.sku = w.sku))";
        args.add(segment.channel());
        args.add(segment.purpose());
        // An item stocked in several locations would list its waitlist once per location: DISTINCT.
        return jdbc.query("SELECT DISTINCT * FROM (" + sql + ") m ORDER BY sku, email", (rs, i) -> new Member(
                rs.getString(1), rs.getString(2), rs.getString(3)), args.toArray());
    }

    List<Member> loyaltyTier(Segment segment, Map<String, String> parameters, Instant now) {
        String tier = parameters.get("tier");
        if (tier == null) {
            throw new IllegalStateException("segment " + segment.id() + " needs the parameter tier");
        }
        List<Object> args = new ArrayList<>(List.of(segment.channel(), segment.purpose(),
                parameters.getOrDefault("program", "default"), tier));
        String sql = "SELECT c.hub_id, c.email FROM feed_loyalty_tier t JOIN customer c ON c.hub_id = t.hub_id"
                + MARKETABLE + " WHERE c.merged_into IS NULL AND t.program = ? AND t.tier = ?";
        String promotion = parameters.get("promotion");
        if (promotion != null) {
            sql += " AND EXISTS (SELECT 1 FROM feed_promotion p WHERE p.hub_id = t.hub_id AND p.promotion_id = ?"
                    + " AND p.eligible AND (p.valid_until IS NULL OR p.valid_until > ?))";
            args.add(promotion);
            args.add(Sql.timestamp(now));
        }
        return jdbc.query(sql + " ORDER BY c.email", (rs, i) -> new Member(rs.getString(1), rs.getString(2), null),
                args.toArray());
    }
}
