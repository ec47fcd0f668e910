package io.handoff.hub.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The settings start-up refuses, each with the sentence that names what to set (StartAndStopIT: the packaged hub). */
class StartupChecksTest {

    @Test
    void aDatabaseUrlNeedsThePostgresqlKind(@TempDir Path routes) {
        String url = "jdbc:postgresql://db:5432/handoff";
        assertEquals(List.of("HUB_DB_URL is set but HUB_DB_KIND (hub.db.kind) is h2: set HUB_DB_KIND=postgresql to use"
                + " that database, or unset HUB_DB_URL to run on the embedded H2"),
                StartupChecks.problems("h2", Optional.of(url), routes));
        assertEquals(List.of(), StartupChecks.problems("postgresql", Optional.of(url), routes));
        assertEquals(List.of(), StartupChecks.problems("h2", Optional.empty(), routes));
        assertEquals(List.of(), StartupChecks.problems("h2", Optional.of(" "), routes), "set but empty: not set");
    }

    @Test
    void theRoutesFolderMustExist(@TempDir Path dir) {
        Path missing = dir.resolve("routes");
        assertEquals(List.of("no routes folder at " + missing + ": start the hub from the folder that holds routes/, or"
                + " set HUB_ROUTES_DIR (hub.routes-dir) to the routes folder"),
                StartupChecks.problems("h2", Optional.empty(), missing));
        assertEquals(List.of(), StartupChecks.problems("h2", Optional.empty(), Path.of("routes")),
                "the repository's own, from its root");
    }

    @Test
    void webhookDeliveriesLeaveWorkerThreadsToTheProbes() {
        assertEquals(Optional.empty(), StartupChecks.threadProblem(256, 320), "the defaults");
        assertEquals(Optional.of("HUB_INTAKE_MAX_IN_FLIGHT (hub.intake.max-in-flight) is 256 but only 200 worker"
                + " threads (quarkus.thread-pool.max-threads) exist: leave 64 of them to the health probes and the"
                + " admin API, by setting QUARKUS_THREAD_POOL_MAX_THREADS to at least 320 or lowering"
                + " HUB_INTAKE_MAX_IN_FLIGHT"), StartupChecks.threadProblem(256, 200), "Quarkus' default pool");
        assertEquals(Optional.empty(), StartupChecks.threadProblem(136, 200));
        assertTrue(StartupChecks.threadProblem(137, 200).isPresent());
    }
}
