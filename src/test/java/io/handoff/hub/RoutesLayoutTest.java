package io.handoff.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import jakarta.inject.Inject;

import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.apache.camel.model.ModelCamelContext;
import org.junit.jupiter.api.Test;

import io.handoff.hub.support.HubTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Every file in routes/ holds one route, route configuration, route template or templated route whose id is the file's
 * name, and a route is running.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class RoutesLayoutTest {

    private static final Pattern ENTRY = Pattern.compile("^- (route|routeConfiguration|routeTemplate|templatedRoute):\\s*$",
            Pattern.MULTILINE);
    private static final Pattern ID = Pattern.compile("^\\s+(?:id|routeId):\\s*(\\S+)\\s*$", Pattern.MULTILINE);

    @Inject
    CamelContext context;

    @Test
    void everyRoutesFileHoldsOneFlowNamedAfterItsIdAndItIsStarted() throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(Path.of("routes"))) {
            // *-settings.yaml files are settings next to the routes (e.g. address-writeback-settings.yaml), not routes,
            // and kustomization.yaml makes the routes ConfigMap of k8s/.
            files = list.filter(p -> p.toString().endsWith(".yaml") && !p.toString().endsWith("-settings.yaml")
                    && !p.getFileName().toString().equals("kustomization.yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 7, "routes/ holds the hub's routes: " + files);
        for (Path file : files) {
            String yaml = Files.readString(file);
            Matcher entries = ENTRY.matcher(yaml);
            assertTrue(entries.find(), file + " holds a route or route configuration");
            String kind = entries.group(1);
            assertTrue(!entries.find(), file + " holds exactly one flow");
            Matcher id = ID.matcher(yaml);
            assertTrue(id.find(), file + " has an id");
            String name = file.getFileName().toString().replace(".yaml", "");
            assertEquals(name, id.group(1), file + " is named after its id");
            if (kind.equals("route") || kind.equals("templatedRoute")) {
                assertEquals(ServiceStatus.Started, context.getRouteController().getRouteStatus(name), name);
            } else if (kind.equals("routeTemplate")) {
                assertNotNull(((ModelCamelContext) context).getRouteTemplateDefinition(name), name);
            } else {
                assertNotNull(((ModelCamelContext) context).getRouteConfigurationDefinition(name), name);
            }
        }
    }
}
