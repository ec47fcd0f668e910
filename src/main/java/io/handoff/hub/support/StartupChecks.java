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
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Settings that would start a hub doing something other than what the operator meant, refused before Camel loads a
 * route: start-up fails with one line that names the variable to set.
 * <ul>
 * <li>{@code HUB_DB_URL} set while {@code hub.db.kind} is still {@code h2}: the hub would run on its embedded file
 * database and ignore the PostgreSQL server it was given.</li>
 * <li>No routes folder at {@code hub.routes-dir} (a relative default, {@code routes}, read from the working folder):
 * the hub was started from another folder, or the routes ConfigMap is not mounted.</li>
 * </ul>
 */
@ApplicationScoped
public class StartupChecks {

    private final String dbKind;
    private final Optional<String> dbUrl;
    private final String routesDir;

    public StartupChecks(@ConfigProperty(name = "hub.db.kind") String dbKind,
            @ConfigProperty(name = "hub.routes-dir") String routesDir, Config config) {
        this.dbKind = dbKind;
        // The environment variable application.properties hands to the PostgreSQL datasource, not a key of its own.
        this.dbUrl = config.getOptionalValue("HUB_DB_URL", String.class);
        this.routesDir = routesDir;
    }

    /** First of the BeforeInitialize observers: nothing (the embedded broker) starts for a refused start. */
    void beforeCamelInitializes(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) BeforeInitialize event) {
        List<String> problems = problems(dbKind, dbUrl, Path.of(routesDir));
        if (!problems.isEmpty()) {
            throw new MisconfiguredException(String.join("; ", problems));
        }
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

    /** Start-up refused: the message says what to set. */
    public static class MisconfiguredException extends IllegalStateException {

        public MisconfiguredException(String message) {
            super(message);
        }
    }
}
