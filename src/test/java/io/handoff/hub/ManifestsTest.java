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
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
import org.junit.jupiter.api.Test;
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
    private static final Path PROPERTIES = Path.of("src/main/resources/application.properties");
    private static final Path SECRET_EXAMPLE = Path.of("k8s", "secret.example.yaml");
    private static final Pattern SECRET_KEY = Pattern.compile("(?m)^  (?:# )?([A-Z][A-Z0-9_]+): (.*)$");

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
        Properties declared = declared();
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
        ConfigurationNames names = new ConfigurationNames();
        List<String> unknown = env.keySet().stream().filter(name -> !names.accepts(name)).toList();
        assertTrue(unknown.isEmpty(), "environment variables that are no configuration key of the hub: " + unknown);

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
        List<JsonNode> docs = render(overlay);
        List<JsonNode> kafkaTopics = kind(docs, "KafkaTopic");
        int consumers = Integer.parseInt(environment(docs).getOrDefault("HUB_CONSUMERS_COUNT",
                declared().getProperty("hub.consumers.count")));
        Set<String> declared = kafkaTopics.stream().map(t -> t.path("spec").path("topicName").asText())
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(topics, declared, "one KafkaTopic per topic of hub.kafka.topics.*");
        for (JsonNode topic : kafkaTopics) {
            JsonNode spec = topic.path("spec");
            assertTrue(spec.path("partitions").asInt() >= consumers, "a consumer per partition at least: " + topic);
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
        // Shutdown: the readiness delay, the requests in flight, the lanes' last batch and Camel's consumers, each
        // at its longest, fit in the grace period.
        Map<String, String> env = environment(docs);
        Properties declared = declared();
        long budget = seconds(env.getOrDefault("QUARKUS_SHUTDOWN_DELAY", "0"))
                + seconds(env.getOrDefault("QUARKUS_SHUTDOWN_TIMEOUT", declared.getProperty("quarkus.shutdown.timeout")))
                + Long.parseLong(env.getOrDefault("HUB_PROPAGATION_SHUTDOWN_GRACE_MS", ConfigProvider.getConfig()
                        .getValue("hub.propagation.shutdown-grace-ms", String.class))) / 1000
                + seconds(env.getOrDefault("CAMEL_MAIN_SHUTDOWN_TIMEOUT",
                        declared.getProperty("camel.main.shutdown-timeout")));
        assertTrue(seconds(env.get("QUARKUS_SHUTDOWN_DELAY")) > 0, "readiness goes DOWN before the port closes");
        assertTrue(pod.path("terminationGracePeriodSeconds").asLong() > budget,
                "terminationGracePeriodSeconds covers the shutdown's " + budget + " s");

        // The NetworkPolicy lets in what the hub serves and out what it connects to.
        JsonNode policy = kind(docs, "NetworkPolicy").get(0).path("spec");
        Set<Integer> in = new TreeSet<>();
        policy.path("ingress").forEach(rule -> rule.path("ports").forEach(p -> in.add(p.path("port").asInt())));
        Set<Integer> served = new TreeSet<>();
        hub.path("ports").forEach(p -> served.add(p.path("containerPort").asInt()));
        assertEquals(served, in, "ingress to the HTTP and management ports");
        Set<Integer> out = new TreeSet<>();
        policy.path("egress").forEach(rule -> rule.path("ports").forEach(p -> out.add(p.path("port").asInt())));
        Set<Integer> needed = new TreeSet<>(Set.of(53, 443));
        for (String server : env.get("KAFKA_BOOTSTRAP_SERVERS").split(",")) {
            needed.add(Integer.parseInt(server.substring(server.lastIndexOf(':') + 1)));
        }
        needed.add(URI.create(env.get("HUB_DB_URL").substring("jdbc:".length())).getPort());
        assertTrue(out.containsAll(needed), "egress to DNS, Kafka, PostgreSQL and HTTPS " + needed + ": " + out);

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

    @Test
    void theNameCheckAcceptsDocumentedKeysAndRejectsOthers() throws IOException {
        ConfigurationNames names = new ConfigurationNames();
        for (String documented : List.of("HUB_DB_KIND", "KAFKA_BOOTSTRAP_SERVERS", "HUB_DB_URL",
                "QUARKUS_LOG_CONSOLE_JSON_ENABLED", "HUB_SYSTEMS_KLAVIYO_API_KEY", "HUB_SYSTEMS_ACME_POINTS_BASE_URL",
                "HUB_SYSTEMS_KLAVIYO_RATE_LIMIT_PER_SECOND", "HUB_SYSTEMS_SALESFORCE_API_VERSION",
                "HUB_SYSTEMS_HUBSPOT_BATCH_SIZE", "HUB_SYSTEMS_CHECKOUT_WEBHOOK_SECRET",
                "HUB_SYSTEMS_SALESFORCE_RECONCILE_CRON", "HUB_FEEDS_AMAZON_ORDERS_TOLERANCE",
                "HUB_PROPAGATION_SHUTDOWN_GRACE_MS")) {
            assertTrue(names.accepts(documented), documented);
        }
        for (String misspelt : List.of("HUB_DB_KINDS", "HUB_SYSTEMS_KLAVIYO_BASEURL", "HUB_SYSTEMS_KLAVIYO",
                "HUB_ADMIN_TOKENS", "QUARKUS_HTTP_PORTS", "HUB_SYSTEMS_KLAVIYO_RATE_LIMIT")) {
            assertFalse(names.accepts(misspelt), misspelt);
        }
    }

    /**
     * The environment variable names the hub reads: every declared key ({@link ConfigReference#keys}), the variables
     * application.properties reads itself ({@code ${KAFKA_BOOTSTRAP_SERVERS:}}), keys with a variable part as their
     * documentation spells them ({@code hub.systems.<name>.base-url}, {@code hub.feeds.<id>.tolerance}), and the
     * per-system keys: {@code HUB_SYSTEMS_<NAME>_<SUFFIX>} for every suffix documented for a system, in full
     * ({@code hub.systems.klaviyo.api-key}), in a route's placeholder, or on its own in the comments about systems
     * ({@code .rate-limit.per-second}, {@code .batch-size}).
     */
    static final class ConfigurationNames {

        private static final Pattern MENTION = Pattern.compile("hub(?:\\.(?:[a-z0-9-]+|<[a-z ]+>))+");
        private static final Pattern SYSTEM_KEY = Pattern.compile("hub\\.systems\\.(?:[a-z0-9-]+|<[a-z ]+>)\\."
                + "([a-z][a-z0-9-]*(?:\\.[a-z][a-z0-9-]*)*)");
        private static final Pattern SUFFIX = Pattern.compile("(?<![\\w.<>-])\\.([a-z][a-z0-9-]*(?:\\.[a-z][a-z0-9-]*)*)");
            private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)[:}]");
        /** Variables the image's run-java.sh reads, not the hub. */
        private static final Set<String> IMAGE = Set.of("JAVA_MAX_MEM_RATIO");

        private final Set<String> names = new TreeSet<>();
        private final List<Pattern> patterns = new ArrayList<>();

        ConfigurationNames() throws IOException {
            for (String key : ConfigReference.keys(Path.of("."))) {
                names.add(ConfigReference.envName(key));
            }
            String properties = Files.readString(PROPERTIES);
            Matcher reference = ENV_REFERENCE.matcher(properties);
            while (reference.find()) {
                names.add(reference.group(1));
            }
            List<String> lines = new ArrayList<>(properties.lines().toList());
            try (Stream<Path> routes = Files.list(Path.of("routes"))) {
                for (Path route : routes.toList()) {
                    lines.addAll(Files.readAllLines(route));
                }
            }
            Set<String> systemSuffixes = new TreeSet<>();
            for (String line : lines) {
                Matcher mention = MENTION.matcher(line);
                while (mention.find()) {
                    String key = mention.group().replaceAll("<[a-z ]+>", "N");
                    if (key.equals(mention.group())) {
                        names.add(ConfigReference.envName(key));
                    } else {
                        patterns.add(Pattern.compile(Pattern.quote(ConfigReference.envName(key))
                                .replace("_N_", "\\E_[A-Z0-9_]+_\\Q")));
                    }
                }
                Matcher systemKey = SYSTEM_KEY.matcher(line);
                while (systemKey.find()) {
                    systemSuffixes.add(systemKey.group(1));
                }
                // A line about systems' keys, or one continuing such a line with more suffixes ("#     .api-version").
                if (line.startsWith("#") && (line.contains("hub.systems.") || line.contains("Per system")
                        || line.matches("#\\s+\\..*"))) {
                    Matcher suffix = SUFFIX.matcher(line.replaceAll("hub(?:\\.(?:[a-z0-9-]+|<[a-z ]+>))+", ""));
                    while (suffix.find()) {
                        systemSuffixes.add(suffix.group(1));
                    }
                }
            }
            patterns.add(Pattern.compile("HUB_SYSTEMS_[A-Z0-9_]+_(" + String.join("|", systemSuffixes.stream()
                    .map(ConfigReference::envName).toList()) + ")"));
        }

        boolean accepts(String name) {
            return names.contains(name) || IMAGE.contains(name) || patterns.stream()
                    .anyMatch(p -> p.matcher(name).matches());
        }
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
                        env.put(key.group(1), key.group(2));
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

    /** application.properties as the packaged hub reads it (the test run overrides some keys). */
    private static Properties declared() {
        Properties declared = new Properties();
        try (var in = Files.newInputStream(PROPERTIES)) {
            declared.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return declared;
    }

    /** A Quarkus duration ({@code 5s}, {@code 500ms}, {@code PT5S}, or plain seconds) in whole seconds, rounded up. */
    static long seconds(String duration) {
        String d = duration.trim();
        Duration parsed = d.matches("\\d+") ? Duration.ofSeconds(Long.parseLong(d))
                : d.matches("\\d+ms") ? Duration.ofMillis(Long.parseLong(d.replace("ms", "")))
                : Duration.parse(d.startsWith("P") ? d : "PT" + d.toUpperCase());
        return (parsed.toMillis() + 999) / 1000;
    }

    /** {@code kubectl kustomize k8s/overlays/<overlay>}, split into its documents. */
    static List<JsonNode> render(String overlay) {
        boolean required = Boolean.parseBoolean(System.getenv("HUB_REQUIRE_KUBECTL"));
        Process kubectl;
        Path out;
        Path err;
        try {
            out = Files.createTempFile("kustomize-" + overlay, ".yaml");
            err = Files.createTempFile("kustomize-" + overlay, ".err");
            kubectl = new ProcessBuilder("kubectl", "kustomize", "k8s/overlays/" + overlay)
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        } catch (IOException e) {
            Assumptions.assumeTrue(required, "kubectl is not on the PATH: " + e.getMessage());
            throw new UncheckedIOException("kubectl is required (HUB_REQUIRE_KUBECTL) but could not start", e);
        }
        try {
            assertTrue(kubectl.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize finished");
            assertEquals(0, kubectl.exitValue(), "kubectl kustomize k8s/overlays/" + overlay + ": "
                    + Files.readString(err));
            List<JsonNode> docs = YAML.readerFor(JsonNode.class).<JsonNode> readValues(out.toFile()).readAll();
            Files.delete(out);
            Files.delete(err);
            return docs.stream().filter(d -> d != null && !d.isNull()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
