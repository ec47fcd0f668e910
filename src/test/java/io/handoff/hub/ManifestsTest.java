package io.handoff.hub;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.handoff.hub.kafka.KafkaSettings;
import io.handoff.hub.support.ConfigReference;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Management;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The Kubernetes overlays, rendered by {@code kubectl kustomize} as {@code kubectl apply -k} would, agree with the
 * application: probes hit health paths that answer on the port the hub serves them on, every environment variable
 * names a configuration key the hub reads, every topic the hub uses is a Strimzi KafkaTopic, and the routes ConfigMap
 * mounted at the routes folder holds every file of routes/ unchanged. Needs kubectl on the PATH (it is on the CI
 * machines, where {@code HUB_REQUIRE_KUBECTL=true} makes its absence a failure instead of a skip).
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class ManifestsTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** Variables read by the JVM or the image, not by the hub's configuration. */
    private static final Set<String> NOT_CONFIGURATION = Set.of("JAVA_TOOL_OPTIONS");
    private static final Pattern KEY_MENTION = Pattern.compile("hub(?:\\.(?:[a-z0-9-]+|<[a-z ]+>))+");
    private static final Path SECRET_EXAMPLE = Path.of("k8s", "secret.example.yaml");
    private static final Pattern SECRET_KEY = Pattern.compile("(?m)^  (?:# )?([A-Z][A-Z0-9_]+): ");
    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)[:}]");

    @Inject
    KafkaSettings kafka;

    @ParameterizedTest
    @ValueSource(strings = { "dev", "prod" })
    void probesAndPortsAreTheHubs(String overlay) throws IOException {
        List<JsonNode> docs = render(overlay);
        JsonNode hub = container(docs);
        Map<String, Integer> ports = new TreeMap<>();
        hub.path("ports").forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
        // The ports the packaged hub listens on (the test run itself listens on random ones), and no overlay moves them.
        Properties declared = new Properties();
        try (var in = Files.newInputStream(Path.of("src/main/resources/application.properties"))) {
            declared.load(in);
        }
        assertEquals(Map.of("http", Integer.valueOf(declared.getProperty("quarkus.http.port")), "management",
                Integer.valueOf(declared.getProperty("quarkus.management.port"))), ports,
                "container ports are the hub's HTTP and management ports");
        assertFalse(environment(docs).keySet().stream().anyMatch(name -> name.matches("QUARKUS_(HTTP|MANAGEMENT)_PORT")));

        Map<String, String> probes = new TreeMap<>();
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            JsonNode get = hub.path(probe).path("httpGet");
            assertEquals("management", get.path("port").asText(), probe + " asks the management port");
            probes.put(probe, get.path("path").asText());
        }
        assertEquals(Map.of("startupProbe", "/q/health/started", "livenessProbe", "/q/health/live",
                "readinessProbe", "/q/health/ready"), probes);
        // The running hub answers every probe path on its management interface with UP.
        for (String path : probes.values()) {
            given().baseUri("http://localhost:" + Management.port()).when().get(path).then().statusCode(200);
        }
        Set<String> servicePorts = new TreeSet<>();
        kind(docs, "Service").get(0).path("spec").path("ports")
                .forEach(p -> servicePorts.add(p.path("targetPort").asText()));
        assertEquals(ports.keySet(), servicePorts, "the Service forwards both named ports");
    }

    @ParameterizedTest
    @ValueSource(strings = { "dev", "prod" })
    void everyEnvironmentVariableIsAConfigurationKey(String overlay) throws IOException {
        List<JsonNode> docs = render(overlay);
        Map<String, String> env = environment(docs);
        Set<String> known = new TreeSet<>();
        List<Pattern> patterns = new ArrayList<>();
        for (String key : ConfigReference.keys(Path.of("."))) {
            known.add(ConfigReference.envName(key));
        }
        // Keys named in the documentation of application.properties or in a route's {{placeholder}}, concrete
        // (hub.systems.klaviyo.api-key) or as patterns (hub.systems.<name>.base-url), and variables the properties read.
        String properties = Files.readString(Path.of("src/main/resources/application.properties"));
        StringBuilder sources = new StringBuilder(properties);
        try (Stream<Path> routes = Files.list(Path.of("routes"))) {
            for (Path route : routes.toList()) {
                sources.append('\n').append(Files.readString(route));
            }
        }
        Matcher mention = KEY_MENTION.matcher(sources);
        while (mention.find()) {
            String key = mention.group().replaceAll("<[a-z ]+>", "N");
            if (key.equals(mention.group())) {
                known.add(ConfigReference.envName(key));
            } else {
                patterns.add(Pattern.compile(Pattern.quote(ConfigReference.envName(key)).replace("_N_",
                        "\\E_[A-Z0-9_]+_\\Q")));
            }
        }
        Matcher reference = ENV_REFERENCE.matcher(properties);
        while (reference.find()) {
            known.add(reference.group(1));
        }
        List<String> unknown = env.keySet().stream().filter(name -> !known.contains(name)
                && !NOT_CONFIGURATION.contains(name) && patterns.stream().noneMatch(p -> p.matcher(name).matches()))
                .toList();
        assertTrue(unknown.isEmpty(), "environment variables that are no configuration key of the hub: " + unknown);
        assertTrue(patterns.size() >= 3, "the systems' keys are documented as patterns: " + patterns);

        // Values the hub checks at start-up.
        assertEquals("postgresql", env.get("HUB_DB_KIND"));
        assertEquals("false", env.get("HUB_KAFKA_TOPICS_CREATE"), "Strimzi owns the topics");
        assertEquals("false", env.get("HUB_SANDBOX_ENABLED"));
        assertFalse(env.getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "").isBlank(), "an external Kafka is named");

        // The Secret the pods take whole is the example's, and the example holds the required credentials.
        assertEquals(Set.of("HUB_DB_URL", "HUB_DB_USERNAME", "HUB_DB_PASSWORD", "HUB_ADMIN_TOKEN",
                "HUB_SYSTEMS_SHOPIFY_WEBHOOK_SECRET"), YAML.readTree(SECRET_EXAMPLE.toFile()).path("stringData")
                        .properties().stream().map(Map.Entry::getKey).collect(Collectors.toSet()));
    }

    @ParameterizedTest
    @ValueSource(strings = { "dev", "prod" })
    void everyTopicTheHubUsesIsAKafkaTopic(String overlay) throws Exception {
        Set<String> topics = new TreeSet<>();
        for (Method m : KafkaSettings.Topics.class.getDeclaredMethods()) {
            if (m.getReturnType() == String.class && m.getParameterCount() == 0) {
                topics.add((String) m.invoke(kafka.topics()));
            }
        }
        assertTrue(topics.size() >= 12, "the hub's topics: " + topics);
        List<JsonNode> kafkaTopics = kind(render(overlay), "KafkaTopic");
        Set<String> declared = kafkaTopics.stream().map(t -> t.path("spec").path("topicName").asText())
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(topics, declared, "one KafkaTopic per topic of hub.kafka.topics.*");
        for (JsonNode topic : kafkaTopics) {
            JsonNode spec = topic.path("spec");
            assertTrue(spec.path("partitions").asInt() >= config("hub.consumers.count"), topic.toString());
            assertTrue(spec.path("config").path("min.insync.replicas").asInt() <= spec.path("replicas").asInt(),
                    "acks=all needs min.insync.replicas <= replicas: " + topic);
            assertFalse(topic.path("metadata").path("labels").path("strimzi.io/cluster").asText().isBlank());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "dev", "prod" })
    void theRoutesConfigMapHoldsEveryRoutesFileWhereTheHubLoadsThem(String overlay) throws IOException {
        List<JsonNode> docs = render(overlay);
        JsonNode pod = kind(docs, "Deployment").get(0).path("spec").path("template").path("spec");
        String routesDir = environment(docs).get("HUB_ROUTES_DIR");
        assertNotNull(routesDir, "HUB_ROUTES_DIR is set");
        String volume = null;
        for (JsonNode mount : container(docs).path("volumeMounts")) {
            if (mount.path("mountPath").asText().equals(routesDir)) {
                volume = mount.path("name").asText();
            }
        }
        assertNotNull(volume, "a volume is mounted at HUB_ROUTES_DIR " + routesDir);
        String configMap = null;
        for (JsonNode v : pod.path("volumes")) {
            if (v.path("name").asText().equals(volume)) {
                configMap = v.path("configMap").path("name").asText();
            }
        }
        JsonNode data = named(docs, "ConfigMap", configMap).path("data");

        Map<String, String> expected = new TreeMap<>();
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path file : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                if (!file.getFileName().toString().equals("kustomization.yaml")) {
                    expected.put(file.getFileName().toString(), Files.readString(file));
                }
            }
        }
        Map<String, String> mounted = new TreeMap<>();
        data.fields().forEachRemaining(e -> mounted.put(e.getKey(), e.getValue().asText()));
        assertEquals(expected.keySet(), mounted.keySet(),
                "routes/kustomization.yaml lists every file of routes/ (add a new route file there)");
        assertEquals(expected, mounted, "the ConfigMap holds the files unchanged");
    }

    @ParameterizedTest
    @ValueSource(strings = { "dev", "prod" })
    void podsRunAsNonRootOnAReadOnlyFilesystemAndShareSafely(String overlay) {
        List<JsonNode> docs = render(overlay);
        JsonNode deployment = kind(docs, "Deployment").get(0);
        JsonNode pod = deployment.path("spec").path("template").path("spec");
        JsonNode hub = container(docs);
        assertTrue(pod.path("securityContext").path("runAsNonRoot").asBoolean());
        assertTrue(hub.path("securityContext").path("readOnlyRootFilesystem").asBoolean());
        assertFalse(hub.path("securityContext").path("allowPrivilegeEscalation").asBoolean(true));
        // The only writable paths are emptyDirs; the hub's data folder and the JVM's temp files are on one.
        Set<String> writable = new TreeSet<>();
        for (JsonNode mount : hub.path("volumeMounts")) {
            for (JsonNode v : pod.path("volumes")) {
                if (v.path("name").equals(mount.path("name")) && v.has("emptyDir")) {
                    writable.add(mount.path("mountPath").asText());
                }
            }
        }
        assertEquals(Set.of("/tmp"), writable);
        assertTrue(environment(docs).get("HUB_DATA_DIR").startsWith("/tmp/"));
        assertTrue(deployment.path("spec").path("replicas").isMissingNode(), "the autoscaler owns the replica count");
        // Shutdown: the readiness delay plus a lane's batch fit in the grace period.
        long delay = Long.parseLong(environment(docs).get("QUARKUS_SHUTDOWN_DELAY").replace("s", ""));
        long grace = ConfigProvider.getConfig().getValue("hub.propagation.shutdown-grace-ms", Long.class) / 1000;
        assertTrue(pod.path("terminationGracePeriodSeconds").asLong() > delay + grace,
                "terminationGracePeriodSeconds covers the shutdown delay and the lanes' grace");

        JsonNode labels = deployment.path("spec").path("template").path("metadata").path("labels");
        for (String kind : List.of("PodDisruptionBudget", "NetworkPolicy")) {
            JsonNode spec = kind(docs, kind).get(0).path("spec");
            JsonNode selector = (kind.equals("NetworkPolicy") ? spec.path("podSelector") : spec.path("selector"))
                    .path("matchLabels");
            assertTrue(selector.size() > 0, kind + " selects pods");
            selector.fields().forEachRemaining(e -> assertEquals(e.getValue(), labels.path(e.getKey()),
                    kind + " selects the hub's pods"));
        }
        JsonNode hpa = kind(docs, "HorizontalPodAutoscaler").get(0).path("spec");
        assertEquals(deployment.path("metadata").path("name").asText(), hpa.path("scaleTargetRef").path("name").asText());
        assertTrue(hpa.path("minReplicas").asInt() >= 2);
        JsonNode account = kind(docs, "ServiceAccount").get(0);
        assertEquals(account.path("metadata").path("name").asText(), pod.path("serviceAccountName").asText());
        assertTrue(kind(docs, "Role").isEmpty(), "no Kubernetes API permissions: scheduling shares through the database");
    }

    /**
     * The hub's container environment: its own entries, the ConfigMaps it takes whole, and the keys of the Secret it
     * takes whole as k8s/secret.example.yaml lists them (the optional ones commented out there too).
     */
    private static Map<String, String> environment(List<JsonNode> docs) {
        JsonNode hub = container(docs);
        Map<String, String> env = new TreeMap<>();
        for (JsonNode from : hub.path("envFrom")) {
            if (from.has("secretRef")) {
                try {
                    String example = Files.readString(SECRET_EXAMPLE);
                    assertEquals(YAML.readTree(example).path("metadata").path("name").asText(),
                            from.path("secretRef").path("name").asText(), "the Secret of k8s/secret.example.yaml");
                    Matcher key = SECRET_KEY.matcher(example);
                    while (key.find()) {
                        env.put(key.group(1), "(secret)");
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                continue;
            }
            String name = from.path("configMapRef").path("name").asText();
            named(docs, "ConfigMap", name).path("data").fields()
                    .forEachRemaining(e -> assertEquals(null, env.put(e.getKey(), e.getValue().asText()),
                            "set twice: " + e.getKey()));
        }
        for (JsonNode e : hub.path("env")) {
            assertFalse(env.containsKey(e.path("name").asText()), "set twice: " + e);
            env.put(e.path("name").asText(), e.path("value").asText(""));
        }
        return env;
    }

    private static JsonNode container(List<JsonNode> docs) {
        JsonNode containers = kind(docs, "Deployment").get(0).path("spec").path("template").path("spec")
                .path("containers");
        assertEquals(1, containers.size());
        return containers.get(0);
    }

    private static List<JsonNode> kind(List<JsonNode> docs, String kind) {
        return docs.stream().filter(d -> d.path("kind").asText().equals(kind)).toList();
    }

    private static JsonNode named(List<JsonNode> docs, String kind, String name) {
        return kind(docs, kind).stream().filter(d -> d.path("metadata").path("name").asText().equals(name))
                .findFirst().orElseGet(() -> fail("no " + kind + " named " + name + " in the rendered overlay"));
    }

    private static int config(String key) {
        return ConfigProvider.getConfig().getValue(key, Integer.class);
    }

    /** {@code kubectl kustomize k8s/overlays/<overlay>}, split into its documents. */
    static List<JsonNode> render(String overlay) {
        boolean required = Boolean.parseBoolean(System.getenv("HUB_REQUIRE_KUBECTL"));
        Process kubectl;
        Path out;
        try {
            out = Files.createTempFile("kustomize-" + overlay, ".yaml");
            kubectl = new ProcessBuilder("kubectl", "kustomize", "k8s/overlays/" + overlay)
                    .redirectOutput(out.toFile()).redirectErrorStream(false).start();
        } catch (IOException e) {
            Assumptions.assumeFalse(!required, "kubectl is not on the PATH: " + e.getMessage());
            throw new UncheckedIOException("kubectl is required (HUB_REQUIRE_KUBECTL) but could not start", e);
        }
        try {
            assertTrue(kubectl.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize finished");
            String errors = new String(kubectl.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, kubectl.exitValue(), "kubectl kustomize k8s/overlays/" + overlay + ": " + errors);
            List<JsonNode> docs = YAML.readerFor(JsonNode.class).<JsonNode> readValues(out.toFile()).readAll();
            Files.delete(out);
            return docs.stream().filter(d -> d != null && !d.isNull()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
