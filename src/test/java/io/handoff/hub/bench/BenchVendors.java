package io.handoff.hub.bench;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import io.handoff.hub.sandbox.ConsentTransitions;
import io.handoff.hub.sandbox.SandboxSettings;
import io.handoff.hub.sandbox.SandboxVendors;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;

/**
 * The sandbox's simulated vendors (Klaviyo, Salesforce, HubSpot, loyalty, ...) served from the benchmark's own JVM on
 * a Vert.x server, so that their state outlives a hub killed with SIGKILL and can be read directly at the end of a
 * run. Faults are set through the same {@code _control} knobs as the hub's sandbox.
 */
final class BenchVendors implements AutoCloseable {

    private final Vertx vertx = Vertx.vertx();
    private final SandboxVendors vendors;
    private final HttpServer server;

    BenchVendors() throws Exception {
        int port = BenchHub.freePort();
        vendors = new SandboxVendors(new SandboxSettings(null, Optional.of(true), "http://127.0.0.1:" + port
                + "/sandbox"), 0, 0);
        Router router = Router.router(vertx);
        vendors.mount(router, vertx);
        server = vertx.createHttpServer().requestHandler(router).listen(port).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }

    /** The base URL the hub is given as {@code hub.sandbox.base-url}. */
    String baseUrl() {
        return "http://127.0.0.1:" + server.actualPort() + "/sandbox";
    }

    /** The contact exists in the system, subscribed and mailable (as before the run). */
    void subscribed(String system, String email) {
        vendors.api(system).subscribe(email, Instant.parse("2026-01-01T00:00:00Z"));
    }

    /** Sets a system's fault knobs, as {@code PUT /sandbox/<system>/_control} would. */
    void knobs(String system, double failureRate, double throttleRate, double timeoutRate, boolean down) {
        vendors.knobs(system, new SandboxVendors.Knobs(0, failureRate, throttleRate, timeoutRate, down));
    }

    Map<String, ConsentTransitions.Seen> seen(String system) {
        return vendors.api(system).transitions().snapshot();
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
