package io.handoff.hub.sandbox;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URLDecoder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * Simulated Amazon Selling Partner API, Orders API v0, in the real API's shapes (every call needs an
 * {@code x-amz-access-token}; without one 403 {@code Unauthorized}; errors are {@code {"errors":[{"code","message"}]}}):
 * <ul>
 * <li>{@code GET /orders/v0/orders?MarketplaceIds=<comma list>&LastUpdatedAfter=<ISO-8601>} (or {@code CreatedAfter};
 * exactly one of them, at least two minutes before now, as SP-API requires; {@code MaxResultsPerPage} 1-100): the
 * orders of those marketplaces last updated (created) at or after that time, oldest first, in pages of at most
 * {@value #PAGE_SIZE} (so paging is always exercised), {@code payload.NextToken} while more follow; then
 * {@code ?MarketplaceIds=..&NextToken=<token>}. 400 {@code InvalidInput} for what SP-API refuses.</li>
 * <li>{@code GET /orders/v0/orders/{orderId}}: one order; {@code GET /orders/v0/orders/{orderId}/orderItems} (and
 * {@code ?NextToken=}): its items, {@value #PAGE_SIZE} a page; 404 {@code NotFound} for an unknown order.</li>
 * </ul>
 * It never answers {@code QuotaExceeded} by itself (the {@code _control} knobs of {@link SandboxVendors} simulate
 * throttling and outages). Orders are seeded with {@code POST /sandbox/amazon/_orders} and a body
 * {@code {"orderId", "email", "sku", "quantity", "purchasedAt"}} (only {@code sku} required; optional too:
 * {@code status} (default Unshipped), {@code price} (unit price, default 25.00), {@code currency} (USD),
 * {@code title}, {@code marketplaceId} (ATVPDKIKX0DER), or {@code lines: [{"sku", "quantity", "price", "title"}]}
 * instead of one {@code sku}): 201 with the order as SP-API lists it. Its {@code LastUpdateDate} is the time it is
 * seeded; seeding an order id again replaces the order (an update, e.g. {@code "status": "Canceled"}). The sandbox
 * keeps no consent state: {@code _suppress} and {@code _subscribe} are refused.
 */
public class AmazonSandbox implements SandboxApi {

    static final int PAGE_SIZE = 2;
    static final String MARKETPLACE = "ATVPDKIKX0DER";
    private static final Pattern ORDER = Pattern.compile("/orders/v0/orders/([^/]+)");
    private static final Pattern ITEMS = Pattern.compile("/orders/v0/orders/([^/]+)/orderItems");
    private static final Set<String> STATUSES = Set.of("Pending", "Unshipped", "PartiallyShipped", "Shipped",
            "Canceled", "Unfulfillable", "InvoiceUnconfirmed", "PendingAvailability");

    record Line(String itemId, String asin, String sku, int quantity, String title, BigDecimal unitPrice) {
        ObjectNode json(String currency) {
            ObjectNode item = Json.MAPPER.createObjectNode();
            item.put("ASIN", asin).put("SellerSKU", sku).put("OrderItemId", itemId).put("Title", title)
                    .put("QuantityOrdered", quantity).put("QuantityShipped", 0);
            // SP-API's ItemPrice is the price of the whole line (unit price x quantity).
            item.putObject("ItemPrice").put("CurrencyCode", currency)
                    .put("Amount", unitPrice.multiply(BigDecimal.valueOf(quantity)).setScale(2).toPlainString());
            return item;
        }
    }

    record Order(String id, String email, String marketplace, Instant purchased, Instant updated, String status,
            String currency, List<Line> lines) {
        ObjectNode json() {
            ObjectNode order = Json.MAPPER.createObjectNode();
            order.put("AmazonOrderId", id).put("PurchaseDate", purchased.toString())
                    .put("LastUpdateDate", updated.toString()).put("OrderStatus", status)
                    .put("FulfillmentChannel", "MFN").put("SalesChannel", "Amazon.com").put("OrderType", "StandardOrder")
                    .put("MarketplaceId", marketplace);
            BigDecimal total = BigDecimal.ZERO;
            int items = 0;
            for (Line line : lines) {
                total = total.add(line.unitPrice().multiply(BigDecimal.valueOf(line.quantity())));
                items += line.quantity();
            }
            order.putObject("OrderTotal").put("CurrencyCode", currency).put("Amount", total.setScale(2).toPlainString());
            order.put("NumberOfItemsShipped", 0).put("NumberOfItemsUnshipped", "Canceled".equals(status) ? 0 : items);
            ObjectNode buyer = order.putObject("BuyerInfo");
            if (email != null) {
                buyer.put("BuyerEmail", email);
            }
            return order;
        }
    }

    private final Map<String, Order> orders = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong(1);
    private final AtomicLong itemSequence = new AtomicLong(10_000_000_000L);
    private final Clock clock;

    public AmazonSandbox() {
        this(Clock.systemUTC());
    }

    AmazonSandbox(Clock clock) {
        this.clock = clock;
    }

    @Override
    public Answer handle(Request request) {
        if ("/_orders".equals(request.path())) {
            return "POST".equals(request.method()) ? seed(request.json())
                    : error(405, "MethodNotAllowed", "seed orders with POST");
        }
        String token = request.header("x-amz-access-token");
        if (token == null || token.isBlank()) {
            return error(403, "Unauthorized", "Access to requested resource is denied.");
        }
        if (!"GET".equals(request.method())) {
            return error(404, "NotFound", "Resource not found.");
        }
        if ("/orders/v0/orders".equals(request.path())) {
            return list(request.query());
        }
        Matcher itemsOf = ITEMS.matcher(request.path());
        if (itemsOf.matches()) {
            return items(decode(itemsOf.group(1)), request.query());
        }
        Matcher one = ORDER.matcher(request.path());
        if (one.matches()) {
            Order order = orders.get(decode(one.group(1)));
            if (order == null) {
                return error(404, "NotFound", "Order not found.");
            }
            ObjectNode answer = Json.MAPPER.createObjectNode();
            answer.set("payload", order.json());
            return Answer.json(200, answer);
        }
        return error(404, "NotFound", "Resource not found.");
    }

    /** {@code getOrders}: the first page from the query's criteria, a later one from its NextToken. */
    private Answer list(Map<String, String> query) {
        String marketplaceIds = query.get("MarketplaceIds");
        if (marketplaceIds == null || marketplaceIds.isBlank()) {
            return error(400, "InvalidInput", "Missing required 'MarketplaceIds' parameter.");
        }
        Set<String> marketplaces = Set.copyOf(List.of(marketplaceIds.strip().split("\\s*,\\s*")));
        String nextToken = query.get("NextToken");
        boolean byUpdate;
        long from;
        String after = null;
        int size = Pages.size(query.get("MaxResultsPerPage"), 100, 100);
        if (size < 0) {
            return error(400, "InvalidInput", "MaxResultsPerPage must be an integer from 1 to 100.");
        }
        if (nextToken != null && !nextToken.isEmpty()) {
            // The token carries the criteria of the first page, as SP-API's does: u|<millis>|<last key>
            String state = Pages.key(nextToken);
            String[] parts = state == null ? new String[0] : state.split("\\|", 3);
            if (parts.length != 3 || !(parts[0].equals("u") || parts[0].equals("c")) || !parts[1].matches("-?\\d+")) {
                return error(400, "InvalidInput", "Invalid NextToken.");
            }
            byUpdate = parts[0].equals("u");
            from = Long.parseLong(parts[1]);
            after = parts[2];
        } else {
            String updated = query.get("LastUpdatedAfter");
            String created = query.get("CreatedAfter");
            if ((updated == null) == (created == null)) {
                return error(400, "InvalidInput", "Exactly one of CreatedAfter and LastUpdatedAfter must be specified.");
            }
            byUpdate = updated != null;
            Instant since;
            try {
                since = Json.instant(byUpdate ? updated : created);
            } catch (IllegalArgumentException e) {
                since = null;
            }
            if (since == null) {
                return error(400, "InvalidInput", (byUpdate ? "LastUpdatedAfter" : "CreatedAfter")
                        + " is not an ISO 8601 date time.");
            }
            if (since.isAfter(clock.instant().minus(Duration.ofMinutes(2)))) {
                return error(400, "InvalidInput", (byUpdate ? "LastUpdatedAfter" : "CreatedAfter")
                        + " must be no later than 2 minutes before the time the request was submitted.");
            }
            from = since.toEpochMilli();
        }
        NavigableMap<String, Order> sorted = new TreeMap<>();
        for (Order o : orders.values()) {
            Instant at = byUpdate ? o.updated() : o.purchased();
            if (at.toEpochMilli() >= from && marketplaces.contains(o.marketplace())) {
                sorted.put(key(at, o.id()), o);
            }
        }
        Pages.Slice<String, Order> slice = Pages.after(sorted, after, Math.min(size, PAGE_SIZE));
        ObjectNode answer = Json.MAPPER.createObjectNode();
        ObjectNode payload = answer.putObject("payload");
        ArrayNode list = payload.putArray("Orders");
        slice.entries().forEach(e -> list.add(e.getValue().json()));
        if (slice.more()) {
            String last = slice.entries().get(slice.entries().size() - 1).getKey();
            payload.put("NextToken", Pages.cursor((byUpdate ? "u" : "c") + "|" + from + "|" + last));
        }
        payload.put(byUpdate ? "LastUpdatedBefore" : "CreatedBefore",
                clock.instant().minus(Duration.ofMinutes(2)).toString());
        return Answer.json(200, answer);
    }

    /** {@code getOrderItems}: the order's lines, {@value #PAGE_SIZE} a page. */
    private Answer items(String orderId, Map<String, String> query) {
        Order order = orders.get(orderId);
        if (order == null) {
            return error(404, "NotFound", "Order not found.");
        }
        int start = 0;
        String nextToken = query.get("NextToken");
        if (nextToken != null && !nextToken.isEmpty()) {
            String state = Pages.key(nextToken);
            String prefix = orderId + "|";
            if (state == null || !state.startsWith(prefix) || !state.substring(prefix.length()).matches("\\d{1,6}")) {
                return error(400, "InvalidInput", "Invalid NextToken.");
            }
            start = Integer.parseInt(state.substring(prefix.length()));
        }
        ObjectNode answer = Json.MAPPER.createObjectNode();
        ObjectNode payload = answer.putObject("payload");
        payload.put("AmazonOrderId", orderId);
        ArrayNode list = payload.putArray("OrderItems");
        int end = Math.min(order.lines().size(), start + PAGE_SIZE);
        for (int i = start; i < end; i++) {
            list.add(order.lines().get(i).json(order.currency()));
        }
        if (end < order.lines().size()) {
            payload.put("NextToken", Pages.cursor(orderId + "|" + end));
        }
        return Answer.json(200, answer);
    }

    /** {@code POST /_orders}: adds (or replaces) an order; 201 with it, or 400 naming what is wrong. */
    public Answer seed(JsonNode body) {
        if (body == null || !body.isObject()) {
            return error(400, "InvalidInput", "the body must be a JSON object with at least a sku");
        }
        Instant now = clock.instant();
        Instant purchased;
        try {
            purchased = Json.instant(Json.text(body, "purchasedAt"));
        } catch (IllegalArgumentException e) {
            return error(400, "InvalidInput", "purchasedAt must be an ISO-8601 timestamp with offset");
        }
        String status = text(body, "status", "Unshipped");
        if (!STATUSES.contains(status)) {
            return error(400, "InvalidInput", "status must be one of " + new TreeSet<>(STATUSES));
        }
        String currency = text(body, "currency", "USD");
        List<Line> lines = new ArrayList<>();
        List<JsonNode> given = new ArrayList<>();
        if (body.path("lines").isArray()) {
            body.path("lines").forEach(given::add);
        } else {
            given.add(body);
        }
        if (given.isEmpty()) {
            return error(400, "InvalidInput", "an order needs at least one line");
        }
        String orderId = text(body, "orderId", null);
        if (orderId == null) {
            long n = sequence.getAndIncrement();
            orderId = String.format("902-%07d-%07d", n / 10_000_000 % 10_000_000, n % 10_000_000);
        } else if (!orderId.matches("[A-Za-z0-9-]{1,50}")) {
            return error(400, "InvalidInput", "orderId must be letters, digits and dashes");
        }
        for (JsonNode g : given) {
            String sku = text(g, "sku", null);
            if (sku == null) {
                return error(400, "InvalidInput", "every line needs a sku");
            }
            JsonNode q = g.path("quantity");
            int quantity = q.isMissingNode() || q.isNull() ? 1
                    : q.isIntegralNumber() && q.canConvertToInt() ? q.asInt() : -1;
            if (quantity < 1) {
                return error(400, "InvalidInput", "quantity must be a positive integer");
            }
            BigDecimal price;
            try {
                price = new BigDecimal(text(g, "price", "25.00")).setScale(2, RoundingMode.HALF_UP);
            } catch (NumberFormatException e) {
                return error(400, "InvalidInput", "price must be a decimal amount");
            }
            lines.add(new Line(String.format("%014d", itemSequence.getAndIncrement()),
                    "B0" + Pii.sha256Hex(sku).substring(0, 8).toUpperCase(), sku, quantity,
                    text(g, "title", "Sandbox item " + sku), price));
        }
        String email = text(body, "email", null);
        Order order = new Order(orderId, email == null ? null : email.toLowerCase(),
                text(body, "marketplaceId", MARKETPLACE), purchased == null ? now : purchased, now, status, currency,
                List.copyOf(lines));
        orders.put(orderId, order);
        return Answer.json(201, order.json());
    }

    /** The sort key of an order in a listing: its time (fixed width), then its id. */
    private static String key(Instant at, String id) {
        return String.format("%020d|%s", at.toEpochMilli(), id);
    }

    private static String text(JsonNode node, String field, String fallback) {
        String value = Json.text(node, field);
        return value == null || value.isBlank() ? fallback : value.strip();
    }

    private static String decode(String segment) {
        try {
            return URLDecoder.decode(segment.replace("+", "%2B"), UTF_8);
        } catch (IllegalArgumentException e) {
            return segment;
        }
    }

    static Answer error(int status, String code, String message) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.putArray("errors").addObject().put("code", code).put("message", message);
        return Answer.json(status, body);
    }

    @Override
    public void suppress(String email, String reason, Instant at) {
        throw new IllegalArgumentException("the Amazon sandbox keeps no consent state (seed orders with POST"
                + " /sandbox/amazon/_orders)");
    }

    @Override
    public void subscribe(String email, Instant at) {
        throw new IllegalArgumentException("the Amazon sandbox keeps no consent state (seed orders with POST"
                + " /sandbox/amazon/_orders)");
    }

    @Override
    public ObjectNode state() {
        ObjectNode state = Json.MAPPER.createObjectNode();
        ObjectNode out = state.putObject("orders");
        new TreeMap<>(orders).forEach((id, o) -> {
            ObjectNode order = out.putObject(id).put("email", o.email()).put("marketplaceId", o.marketplace())
                    .put("purchasedAt", o.purchased().toString()).put("lastUpdatedAt", o.updated().toString())
                    .put("status", o.status());
            ArrayNode lines = order.putArray("lines");
            o.lines().forEach(l -> lines.addObject().put("sku", l.sku()).put("quantity", l.quantity()));
        });
        return state;
    }
}
