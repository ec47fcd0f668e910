package io.handoff.hub.sandbox;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.Json;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * Serves the simulated vendor APIs under {@code /sandbox/<system>/...} when the sandbox is on (see
 * {@link SandboxSettings}); they are not Camel routes of the hub but stand-ins for the systems outside it. Knobs
 * per system, for demos, benchmarks and fault runs:
 * <ul>
 * <li>{@code GET /sandbox/<system>/_state}: the system's consent state and its knobs;</li>
 * <li>{@code PUT /sandbox/<system>/_control} with {@code {"latencyMs": 200, "failureRate": 0.3, "throttleRate": 0.1,
 * "timeoutRate": 0.05, "down": false}}: answer after a delay, answer 503 (or 429 with {@code Retry-After: 1}) at
 * random, carry out a call but never answer it (the caller times out), or drop every connection unanswered;</li>
 * <li>{@code POST /sandbox/klaviyo/_lists/<list id>} with {@code {"emails": [...]}}: list members;</li>
 * <li>{@code POST /sandbox/<system>/_suppress} with {@code {"email": "a@example.com", "reason": "HARD_BOUNCE",
 * "at": "2026-11-23T10:00:00Z"}} (reason and at optional): the contact opted out or suppressed as if the system did
 * it itself (a bounce, an unsubscribe link), created if unknown. Reasons: Klaviyo's suppression reasons (default
 * UNSUBSCRIBE); Shopify INVALID (marketing state INVALID), else UNSUBSCRIBED; kept as given elsewhere (loyalty
 * lower-cased, default {@code unsubscribed});</li>
 * <li>{@code POST /sandbox/<system>/_subscribe} with {@code {"email": "a@example.com"}}: the contact subscribed and
 * mailable, as if the system missed an opt-out (both refused by Amazon, which keeps no consent);</li>
 * <li>{@code POST /sandbox/amazon/_orders} with {@code {"orderId": "902-...", "email": "a@example.com", "sku": "SKU-1",
 * "quantity": 1, "purchasedAt": "2026-11-23T10:00:00Z"}}: an order placed on Amazon, listed by its Orders API from
 * then on (see {@link AmazonSandbox}).</li>
 * </ul>
 * Start-up values of the knobs: {@code hub.sandbox.latency-ms}, {@code hub.sandbox.failure-rate}.
 */
@ApplicationScoped
public class SandboxVendors {

    private static final Logger LOG = Logger.getLogger(SandboxVendors.class);
    /** A call whose answer is lost (timeoutRate) has its connection closed after this long. */
    private static final long LOST_ANSWER_CLOSE_MS = 60_000;

    /** A system's fault knobs. */
    public record Knobs(long latencyMs, double failureRate, double throttleRate, double timeoutRate, boolean down) {
        ObjectNode json() {
            return Json.MAPPER.createObjectNode().put("latencyMs", latencyMs).put("failureRate", failureRate)
                    .put("throttleRate", throttleRate).put("timeoutRate", timeoutRate).put("down", down);
        }
    }

    private final SandboxSettings settings;
    private final Map<String, SandboxApi> apis = new LinkedHashMap<>();
    private final Map<String, Knobs> knobs = new ConcurrentHashMap<>();

    public SandboxVendors(SandboxSettings settings,
            // Delay before each sandbox answer at start-up, in milliseconds (change live with _control).
            @ConfigProperty(name = "hub.sandbox.latency-ms", defaultValue = "0") long latencyMs,
            // Share of sandbox calls answered 503 at start-up, 0 to 1 (change live with _control).
            @ConfigProperty(name = "hub.sandbox.failure-rate", defaultValue = "0") double failureRate) {
        this.settings = settings;
        apis.put("klaviyo", new KlaviyoSandbox());
        apis.put("salesforce", new SalesforceSandbox());
        apis.put("hubspot", new HubSpotSandbox());
        apis.put("shopify", new ShopifySandbox());
        apis.put("loyalty", new LoyaltySandbox());
        apis.put("amazon", new AmazonSandbox());
        apis.keySet().forEach(s -> knobs.put(s, new Knobs(latencyMs, failureRate, 0, 0, false)));
    }

    public SandboxApi api(String system) {
        return apis.get(system);
    }

    /** Sets a system's knobs, as {@code PUT /sandbox/<system>/_control} does. */
    public void knobs(String system, Knobs next) {
        knobs.put(system, next);
        LOG.infof("sandbox %s knobs: %s", system, next);
    }

    /** Serves the sandbox on this router (the hub's own HTTP server, or a stand-alone one in a fault run). */
    public void mount(@Observes Router router, Vertx vertx) {
        if (!settings.enabled()) {
            return;
        }
        router.route("/sandbox/*").handler(BodyHandler.create().setBodyLimit(1_048_576));
        router.route("/sandbox/:system/*").handler(ctx -> handle(ctx, vertx));
        LOG.infof("sandbox vendors served under /sandbox: %s", apis.keySet());
    }

    private void handle(RoutingContext ctx, Vertx vertx) {
        String system = ctx.pathParam("system");
        SandboxApi api = apis.get(system);
        if (api == null) {
            send(ctx, SandboxApi.Answer.json(404, error("no sandbox system " + system)));
            return;
        }
        String path = ctx.request().path().substring(("/sandbox/" + system).length());
        if (path.startsWith("/_")) {
            control(ctx, system, api, path);
            return;
        }
        Knobs k = knobs.get(system);
        if (k.down()) {
            ctx.request().connection().close();
            return;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        ctx.request().headers().forEach(h -> headers.put(h.getKey(), h.getValue()));
        if (ctx.request().getHeader("X-Forwarded-Proto") == null) {
            headers.put("X-Forwarded-Proto", ctx.request().scheme()); // for the absolute URLs some APIs answer
        }
        Map<String, String> query = new LinkedHashMap<>();
        ctx.queryParams().forEach(q -> query.put(q.getKey(), q.getValue()));
        byte[] body = ctx.body() == null || ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
        SandboxApi.Request request = new SandboxApi.Request(ctx.request().method().name(), path, query, headers, body);
        Runnable answer = () -> {
            double roll = ThreadLocalRandom.current().nextDouble();
            if (roll < k.failureRate()) {
                send(ctx, SandboxApi.Answer.json(503, error("sandbox: simulated outage")));
            } else if (roll < k.failureRate() + k.throttleRate()) {
                ctx.response().putHeader("Retry-After", "1");
                send(ctx, SandboxApi.Answer.json(429, error("sandbox: simulated rate limit")));
            } else if (roll < k.failureRate() + k.throttleRate() + k.timeoutRate()) {
                api.handle(request); // done, but the answer never comes: the caller times out and may send it again
                vertx.setTimer(LOST_ANSWER_CLOSE_MS, id -> ctx.request().connection().close());
            } else {
                send(ctx, api.handle(request));
            }
        };
        if (k.latencyMs() > 0) {
            vertx.setTimer(k.latencyMs(), id -> answer.run());
        } else {
            answer.run();
        }
    }

    private void control(RoutingContext ctx, String system, SandboxApi api, String path) {
        String method = ctx.request().method().name();
        if (path.equals("/_state") && method.equals("GET")) {
            ObjectNode state = api.state();
            state.set("knobs", knobs.get(system).json());
            send(ctx, SandboxApi.Answer.json(200, state));
        } else if (path.equals("/_control") && method.equals("PUT")) {
            JsonNode body = json(ctx);
            Knobs old = knobs.get(system);
            if (body == null) {
                send(ctx, SandboxApi.Answer.json(400, error("the body must be JSON")));
                return;
            }
            Knobs next = new Knobs(body.path("latencyMs").asLong(old.latencyMs()),
                    body.path("failureRate").asDouble(old.failureRate()), body.path("throttleRate").asDouble(old.throttleRate()),
                    body.path("timeoutRate").asDouble(old.timeoutRate()), body.path("down").asBoolean(old.down()));
            knobs(system, next);
            send(ctx, SandboxApi.Answer.json(200, next.json()));
        } else if (path.startsWith("/_lists/") && method.equals("POST") && api instanceof KlaviyoSandbox klaviyo) {
            JsonNode body = json(ctx);
            if (body == null) {
                send(ctx, SandboxApi.Answer.json(400, error("the body must be JSON")));
                return;
            }
            body.path("emails").forEach(e -> klaviyo.addToList(path.substring("/_lists/".length()), e.asText()));
            send(ctx, SandboxApi.Answer.empty(204));
        } else if (path.equals("/_orders") && api instanceof AmazonSandbox amazon) {
            send(ctx, amazon.handle(new SandboxApi.Request(method, path, Map.of(), Map.of(), ctx.body() == null
                    || ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes())));
        } else if ((path.equals("/_suppress") || path.equals("/_subscribe")) && method.equals("POST")) {
            send(ctx, seed(api, path, json(ctx)));
        } else {
            send(ctx, SandboxApi.Answer.json(404, error("no sandbox control " + path)));
        }
    }

    /** {@code _suppress} or {@code _subscribe} with this body: 204, or 400 for a body without email or a bad reason. */
    static SandboxApi.Answer seed(SandboxApi api, String path, JsonNode body) {
        String email = body == null ? null : Json.text(body, "email");
        if (email == null || email.isBlank()) {
            return SandboxApi.Answer.json(400, error("the body must be JSON with an email"));
        }
        Instant at;
        try {
            at = Json.instant(Json.text(body, "at"));
        } catch (IllegalArgumentException e) {
            return SandboxApi.Answer.json(400, error("at must be an ISO-8601 timestamp with offset"));
        }
        try {
            if (path.equals("/_suppress")) {
                api.suppress(email.strip().toLowerCase(), Json.text(body, "reason"), at == null ? Instant.now() : at);
            } else {
                api.subscribe(email.strip().toLowerCase(), at == null ? Instant.now() : at);
            }
        } catch (IllegalArgumentException e) {
            return SandboxApi.Answer.json(400, error(e.getMessage()));
        }
        return SandboxApi.Answer.empty(204);
    }

    private static JsonNode json(RoutingContext ctx) {
        try {
            return ctx.body() == null || ctx.body().buffer() == null ? null
                    : Json.MAPPER.readTree(ctx.body().buffer().getBytes());
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static ObjectNode error(String message) {
        return Json.MAPPER.createObjectNode().put("error", message);
    }

    private static void send(RoutingContext ctx, SandboxApi.Answer answer) {
        if (answer.contentType() != null) {
            ctx.response().putHeader("Content-Type", answer.contentType());
        }
        ctx.response().setStatusCode(answer.status()).end(answer.body());
    }

    /** The simulated shop holds what the storefront's own consent webhooks say (only while the sandbox is on). */
    void storefrontConsent(@Observes io.handoff.hub.intake.shopify.ShopifyDelivery.Accepted accepted) {
        var event = accepted.event();
        if (!settings.enabled() || event.type() != io.handoff.hub.event.EventType.CONSENT_CHANGED
                || !"email".equals(event.data().path("channel").asText())) {
            return;
        }
        var customer = event.data().path("customer");
        ((ShopifySandbox) apis.get("shopify")).storefrontChange(customer.path("ids").path("shopify").asText(null),
                customer.path("email").asText(null), event.data().path("state").asText(""),
                event.data().path("reason").asText(null), event.time());
    }
}
