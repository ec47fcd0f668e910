package io.handoff.hub.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
