package io.handoff.hub.propagation;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.Route;
import org.apache.camel.quarkus.main.events.AfterStart;
import org.apache.camel.quarkus.main.events.BeforeStop;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.propagation.adapters.HubSpotAdapter;
import io.handoff.hub.propagation.adapters.KlaviyoAdapter;
import io.handoff.hub.propagation.adapters.RouteSubscriberAdapter;
import io.handoff.hub.propagation.adapters.SalesforceAdapter;
import io.handoff.hub.propagation.adapters.ShopifyAdapter;
import io.handoff.hub.sandbox.SandboxSettings;

/**
 * The subscriber systems and their lanes. A system is switched on by its base URL, {@code hub.systems.<name>.base-url}
 * (env {@code HUB_SYSTEMS_<NAME>_BASE_URL}; in the sandbox, the simulated system's): {@code klaviyo},
 * {@code salesforce}, {@code hubspot} and {@code shopify} have Java adapters; any other system is a route made from the
 * {@code rest-subscriber} template ({@code direct:subscriber-<name>}) in routes/. Each switched-on system gets a lane,
 * started once Camel runs and stopped (finishing its batch) before Camel stops.
 */
@ApplicationScoped
public class PropagationLanes {

    private static final Logger LOG = Logger.getLogger(PropagationLanes.class);
    static final List<String> JAVA_ADAPTERS = List.of("klaviyo", "salesforce", "hubspot", "shopify");

    private final CamelContext camel;
    private final Config config;
    private final SandboxSettings sandbox;
    private final LaneSettings settings;
    private final Deliveries deliveries;
    private final DeadLetterParking parking;
    private final PropagationMetrics metrics;
    private final IdentityResolver identity;
    private final Map<String, LaneLinks> laneLinks = new java.util.concurrent.ConcurrentHashMap<>();

    private volatile Map<String, SubscriberAdapter> adapters;
    private final Map<String, LaneWorker> workers = new LinkedHashMap<>();

    public PropagationLanes(CamelContext camel, Config config, SandboxSettings sandbox, LaneSettings settings,
            Deliveries deliveries, DeadLetterParking parking, PropagationMetrics metrics, IdentityResolver identity) {
        this.camel = camel;
        this.config = config;
        this.sandbox = sandbox;
        this.settings = settings;
        this.deliveries = deliveries;
        this.parking = parking;
        this.metrics = metrics;
        this.identity = identity;
    }

    /** The switched-on subscriber systems by name (found once, when first asked). */
    public Map<String, SubscriberAdapter> adapters() {
        Map<String, SubscriberAdapter> found = adapters;
        if (found == null) {
            synchronized (this) {
                if (adapters == null) {
                    adapters = Collections.unmodifiableMap(discover());
                }
                found = adapters;
            }
        }
        return found;
    }

    public Set<String> systems() {
        return adapters().keySet();
    }

    public Optional<SubscriberAdapter> adapter(String system) {
        return Optional.ofNullable(adapters().get(system));
    }

    /** Tells a lane on this replica that work is due (other replicas find it at their next poll). */
    public void wake(String system) {
        LaneWorker worker;
        synchronized (workers) {
            worker = workers.get(system);
        }
        if (worker != null) {
            worker.wake();
        }
    }

    private Map<String, SubscriberAdapter> discover() {
        Map<String, SubscriberAdapter> found = new LinkedHashMap<>();
        for (String name : JAVA_ADAPTERS) {
            systemConfig(name).ifPresent(c -> found.put(name, javaAdapter(c)));
        }
        java.util.Set<String> uris = new java.util.HashSet<>();
        camel.getRoutes().forEach(r -> uris.add(r.getEndpoint().getEndpointUri().replace("direct://", "direct:")));
        for (Route route : camel.getRoutes()) {
            String uri = route.getEndpoint().getEndpointUri().replace("direct://", "direct:");
            if (uri.startsWith(RouteSubscriberAdapter.ENDPOINT_PREFIX)) {
                String name = uri.substring(RouteSubscriberAdapter.ENDPOINT_PREFIX.length());
                boolean addresses = uris.contains(RouteSubscriberAdapter.ADDRESS_ENDPOINT_PREFIX + name);
                systemConfig(name).ifPresentOrElse(c -> found.put(name, new RouteSubscriberAdapter(c, addresses)),
                        () -> LOG.infof("subscriber route %s is defined but %s is not set: %s is off", route.getRouteId(),
                                "hub.systems." + name + ".base-url", name));
            }
        }
        LOG.debugf("propagation subscribers: %s%s", found.keySet(), sandbox.enabled() ? " (sandbox on)" : "");
        return found;
    }

    /** The settings of system {@code name} if it is switched on (its base URL, or the sandbox simulating it). */
    public Optional<SystemConfig> systemConfig(String name) {
        Optional<String> url = config.getOptionalValue("hub.systems." + name + ".base-url", String.class)
                .map(String::strip).filter(s -> !s.isEmpty());
        boolean simulated = url.isEmpty() && sandbox.baseUrl(name).isPresent();
        return url.or(() -> sandbox.baseUrl(name)).map(u -> new SystemConfig(name, u, config, simulated));
    }

    /** The ids a system's adapter finds, linked when its lane stores the receipts ({@link LaneLinks}). */
    private LaneLinks links(String system) {
        return laneLinks.computeIfAbsent(system, s -> new LaneLinks(identity));
    }

    private SubscriberAdapter javaAdapter(SystemConfig c) {
        return switch (c.name()) {
            case "klaviyo" -> new KlaviyoAdapter(c);
            case "salesforce" -> new SalesforceAdapter(c, links(c.name()));
            case "hubspot" -> new HubSpotAdapter(c);
            case "shopify" -> new ShopifyAdapter(c, links(c.name()));
            default -> throw new IllegalArgumentException("no Java adapter for " + c.name());
        };
    }

    void start(@Observes AfterStart event) {
        // Find the systems now: a switched-on system without its credential stops the start-up here, naming the key,
        // instead of failing every ledger event later.
        adapters();
        if (!settings.enabled()) {
            LOG.info("propagation lanes are switched off on this replica (hub.propagation.enabled=false)");
            return;
        }
        ProducerTemplate template = camel.createProducerTemplate();
        synchronized (workers) {
            for (SubscriberAdapter adapter : adapters().values()) {
                SystemConfig c = systemConfig(adapter.system()).orElseThrow();
                RateLimiter limiter = new RateLimiter(c.intValue("rate-limit.per-second", defaultPerSecond(c.name())),
                        c.intValue("rate-limit.per-minute", defaultPerMinute(c.name())));
                String http = "http://" + c.name() + "?throwExceptionOnFailure=false&connectTimeout="
                        + settings.connectTimeoutMs() + "&responseTimeout="
                        + c.intValue("response-timeout-ms", (int) settings.responseTimeoutMs())
                        + "&connectionRequestTimeout=" + settings.connectTimeoutMs();
                LaneWorker worker = new LaneWorker(adapter, new VendorClient(template, http, limiter), deliveries,
                        parking, metrics, settings, laneLinks.get(adapter.system()), c.intValue("batch-size", defaultBatchSize(c.name(), settings.batchSize())),
                        c.intValue("concurrency", adapter.batchesCalls() ? 1 : 4));
                workers.put(adapter.system(), worker);
                worker.start();
            }
        }
    }

    void stop(@Observes BeforeStop event) {
        List<LaneWorker> running;
        synchronized (workers) {
            running = List.copyOf(workers.values());
            workers.clear();
        }
        running.forEach(w -> w.stop(Duration.ofMillis(settings.shutdownGraceMs())));
    }

    /**
     * Documented limits: Klaviyo's consent endpoints and its GET /api/profiles (reconciliation) each allow 75/s
     * burst, 750/min steady (revision 2026-07-15).
     */
    public static int defaultPerSecond(String system) {
        return "klaviyo".equals(system) ? 75 : 0;
    }

    /**
     * Klaviyo's bulk jobs take 100 profiles (its adapter splits a larger batch into jobs of 100): its lane takes at
     * least that many at a time. HubSpot's batch write is one call per batch: at most 100 inputs, HubSpot's usual
     * batch limit.
     */
    static int defaultBatchSize(String system, int configured) {
        return switch (system) {
            case "klaviyo" -> Math.max(configured, 100);
            case "hubspot" -> Math.min(configured, 100);
            default -> configured;
        };
    }

    public static int defaultPerMinute(String system) {
        return "klaviyo".equals(system) ? 750 : 0;
    }
}
