package io.handoff.hub.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

import org.apache.camel.quarkus.main.events.BeforeInitialize;
import org.eclipse.microprofile.config.Config;

/**
 * Settings that would start a hub doing something other than what the operator meant, refused before Camel loads a
 * route: start-up fails with one line that names the variable to set.
 * <ul>
 * <li>{@code HUB_DB_URL} set while {@code hub.db.kind} is still {@code h2}: the hub would run on its embedded file
 * database and ignore the PostgreSQL server it was given.</li>
 * <li>No routes folder at {@code hub.routes-dir} (a relative default, {@code routes}, read from the working folder):
 * the hub was started from another folder, or the routes ConfigMap is not mounted.</li>
 * <li>{@code hub.intake.max-in-flight} that leaves fewer than {@link #SPARE_WORKER_THREADS} of the worker threads
 * ({@code quarkus.thread-pool.max-threads}) free: webhook deliveries waiting for Kafka would hold them all, and the
 * health probes, the admin API and the quick 503s of an overload would queue behind them.</li>
 * </ul>
 */
@ApplicationScoped
public class StartupChecks {

    /** Worker threads webhook deliveries must leave to everything else. */
    public static final int SPARE_WORKER_THREADS = 64;

    private final Config config;

    public StartupChecks(Config config) {
        this.config = config;
    }

    /** First of the BeforeInitialize observers: nothing (the embedded broker) starts for a refused start. */
    void beforeCamelInitializes(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) BeforeInitialize event) {
        List<String> problems = problemsOf(config);
        if (!problems.isEmpty()) {
            throw new MisconfiguredException(String.join("; ", problems));
        }
    }

    /**
     * Every problem of the configuration, read key by key: also asked by the embedded broker's early start
     * ({@code EarlyBrokerStart}), before Quarkus' configuration objects exist, so that a refused start starts no broker.
     */
    public static List<String> problemsOf(Config config) {
        // The environment variable application.properties hands to the PostgreSQL datasource, not a key of its own.
        List<String> problems = new ArrayList<>(problems(
                config.getOptionalValue("hub.db.kind", String.class).orElse("h2"),
                config.getOptionalValue("HUB_DB_URL", String.class),
                Path.of(config.getOptionalValue("hub.routes-dir", String.class).orElse("routes"))));
        threadProblem(config.getOptionalValue("hub.intake.max-in-flight", Integer.class).orElse(256),
                // Quarkus' own default when the key is not set.
                config.getOptionalValue("quarkus.thread-pool.max-threads", Integer.class)
                        .orElse(Math.max(200, 8 * Runtime.getRuntime().availableProcessors())))
                .ifPresent(problems::add);
        return problems;
    }

    /** What is wrong with these settings, one sentence each (empty: nothing). */
    public static List<String> problems(String dbKind, Optional<String> dbUrl, Path routesDir) {
        List<String> problems = new ArrayList<>();
        if (dbUrl.filter(url -> !url.isBlank()).isPresent() && !"postgresql".equals(dbKind)) {
            problems.add("HUB_DB_URL is set but HUB_DB_KIND (hub.db.kind) is " + dbKind
                    + ": set HUB_DB_KIND=postgresql to use that database, or unset HUB_DB_URL to run on the embedded H2");
        }
        if (!Files.isDirectory(routesDir)) {
            problems.add("no routes folder at " + routesDir.toAbsolutePath().normalize()
                    + ": start the hub from the folder that holds routes/, or set HUB_ROUTES_DIR (hub.routes-dir)"
                    + " to the routes folder");
        }
        return problems;
    }

    /** Whether webhook deliveries could take the worker threads the probes need (empty: they cannot). */
    public static Optional<String> threadProblem(int maxInFlight, int workerThreads) {
        if (maxInFlight + SPARE_WORKER_THREADS <= workerThreads) {
            return Optional.empty();
        }
        return Optional.of("HUB_INTAKE_MAX_IN_FLIGHT (hub.intake.max-in-flight) is " + maxInFlight + " but only "
                + workerThreads + " worker threads (quarkus.thread-pool.max-threads) exist: leave "
                + SPARE_WORKER_THREADS + " of them to the health probes and the admin API, by setting"
                + " QUARKUS_THREAD_POOL_MAX_THREADS to at least " + (maxInFlight + SPARE_WORKER_THREADS)
                + " or lowering HUB_INTAKE_MAX_IN_FLIGHT");
    }

    /** Start-up refused: the message says what to set. */
    public static class MisconfiguredException extends IllegalStateException {

        public MisconfiguredException(String message) {
            super(message);
        }
    }
}
