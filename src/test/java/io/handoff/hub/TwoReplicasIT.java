package io.handoff.hub;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.h2.tools.Server;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import io.handoff.hub.kafka.EmbeddedKafkaBroker;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.PackagedHub;
import io.handoff.hub.support.Webhooks;

/**
 * Two packaged hub instances ({@code target/quarkus-app/quarkus-run.jar}, prod profile), configured through
 * environment variables as k8s/ configures its pods, share one database that outlives them (an H2 TCP server in this
 * JVM, or with {@code -Dhub.test.db=postgresql} a fresh database on the PostgreSQL server, reached through
 * {@code HUB_DB_URL}) and one Kafka cluster whose topics exist beforehand (the KafkaTopics of k8s/base, topic creation
 * off). Their routes come from a folder laid out like a mounted ConfigMap (symlinks into a timestamped folder) holding
 * the files routes/kustomization.yaml lists. A storefront sends every opt-out to both replicas at once, as a retry
 * racing the first delivery: each is one CloudEvent, one ledger decision and one call to the loyalty platform; the
 * consumer groups split the partitions between the two; every reconciliation fire runs once. Then one replica is
 * killed: the other takes over its partitions and runs every later fire, and nothing sent afterwards is lost.
 */
class TwoReplicasIT {

    static final String SECRET = "two-replicas-shopify-secret";
    static final String FIRES = "SELECT COUNT(*) FROM scheduled_fire WHERE job = 'reconcile-salesforce'";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final List<PackagedHub> hubs = new ArrayList<>();
    EmbeddedKafkaBroker broker;
    WireMockServer vendors;
    Server h2;
    String postgres;

    @AfterEach
    void stop() throws InterruptedException {
        for (PackagedHub hub : hubs) {
            hub.close();
        }
        if (vendors != null) {
            vendors.stop();
        }
        if (broker != null) {
            broker.stop();
        }
        if (h2 != null) {
            h2.stop();
        }
        if (postgres != null) {
            HubTestResource.dropPostgresDatabase(postgres);
        }
    }

    @Test
    void twoReplicasShareOneDatabaseAndKafkaWithoutDoubleWorkAndOneTakesOverWhenTheOtherDies() throws Exception {
        Path root = Path.of("target", "it-two-replicas", UUID.randomUUID().toString()).toAbsolutePath();
        Files.createDirectories(root);
        int[] ports = HubTestResource.freePorts(3);
        broker = new EmbeddedKafkaBroker(ports[0], ports[1], root.resolve("kafka"));
        broker.start();
        Set<String> topics = manifestTopics();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            admin.createTopics(topics.stream().map(t -> new NewTopic(t, 3, (short) 1)).toList()).all()
                    .get(30, TimeUnit.SECONDS);
        }
        // Salesforce: an empty opt-out list for the scheduled reconciliation, and no Contact for its lane's lookups (so its
        // deliveries are skipped); the loyalty platform takes every change.
        vendors = new WireMockServer(options().dynamicPort());
        vendors.start();
        vendors.stubFor(get(urlPathEqualTo("/services/data/v64.0/query")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"totalSize\":0,\"done\":true,\"records\":[]}")));
        vendors.stubFor(post(urlPathEqualTo("/api/v1/consent-events")).willReturn(aResponse().withStatus(202)));

        Path routes = mountedConfigMap(root.resolve("routes-mount"));
        Map<String, String> db = sharedDatabase(root, ports[2]);
        Map<String, String> env = environment(routes, db);
        // The first instance migrates the database before the second starts, as a rolling update would.
        for (int i = 0; i < 2; i++) {
            hubs.add(PackagedHub.start(root.resolve("hub-" + i), env));
        }
        int[] http = { hubs.get(0).httpPort, hubs.get(1).httpPort };

        // Both replicas' consumers have joined their groups: the rebalance a joining replica causes would otherwise
        // meet the first webhooks, refuse a batch's offset commit and hand its records to the partition's new owner
        // again (at-least-once: decided once, the repeat recorded as a duplicate), which this phase does not count on.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
            for (String group : List.of("handoff-consent-ledger", "handoff-propagation", "handoff-customer-identity",
                    "handoff-address-writeback")) {
                ConsumerGroupDescription described = consumerGroup(group);
                if (described.members().size() != 2 || !"Stable".equalsIgnoreCase(String.valueOf(described.state()))) {
                    return false;
                }
            }
            return true;
        });
        try (Connection sql = DriverManager.getConnection(db.get("url"), db.get("user"), "")) {
            // 20 opt-outs, each delivered to both replicas at once (the same webhook id: a retry racing the first).
            List<String> emails = new ArrayList<>();
            for (int n = 0; n < 20; n++) {
                String email = "replica-" + n + "@example.com";
                emails.add(email);
                byte[] body = optOut(1000 + n, email);
                String webhookId = UUID.randomUUID().toString();
                CompletableFuture<Integer> first = postShopify(http[n % 2], webhookId, body);
                CompletableFuture<Integer> retry = postShopify(http[(n + 1) % 2], webhookId, body);
                assertEquals(200, first.get(30, TimeUnit.SECONDS), "first delivery of " + n);
                assertEquals(200, retry.get(30, TimeUnit.SECONDS), "retry of " + n);
            }
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .until(() -> loyaltyCalls().size() >= 20 && count(sql, "SELECT COUNT(*) FROM delivery"
                            + " WHERE system = 'loyalty' AND status <> 'delivered'") == 0);
            // A retry racing its first delivery may be published too (at-least-once: the delivery id is stored only
            // once Kafka acknowledged, publish-event.yaml), always as the same CloudEvent; the consumers drop repeats.
            List<String> events = consentEventIds();
            assertEquals(20, events.stream().distinct().count(), "each webhook is one CloudEvent, whichever replica took it");
            assertTrue(events.size() <= 40, events.size() + " records for 20 webhooks sent twice");
            assertEquals(20, count(sql, "SELECT COUNT(*) FROM customer"));
            // The ledger decides each event once; a repeated record is kept in the history as a duplicate.
            assertEquals(20, count(sql, "SELECT COUNT(*) FROM consent_history WHERE rule <> 'duplicate'"),
                    "one ledger decision per event");
            assertEquals(20, count(sql, "SELECT COUNT(*) FROM consent_history WHERE changed"));
            assertEquals(events.size() - 20, count(sql, "SELECT COUNT(*) FROM consent_history WHERE rule = 'duplicate'"));
            assertEquals(20, count(sql, "SELECT COUNT(*) FROM consent_state WHERE state = 'unsubscribed'"));
            assertEquals(20, count(sql, "SELECT COUNT(*) FROM delivery WHERE system = 'loyalty'"));
            assertEquals(20, count(sql, "SELECT COUNT(*) FROM delivery_attempt a JOIN delivery d ON d.id ="
                    + " a.delivery_id WHERE d.system = 'loyalty'"), "one call per delivery");
            List<LoggedRequest> calls = loyaltyCalls();
            assertEquals(20, calls.size(), "the loyalty platform was called once per opt-out");
            assertEquals(new TreeSet<>(emails), emailsOf(calls));
            assertEquals(20, calls.stream().map(r -> r.getHeader("Idempotency-Key")).distinct().count());

            // Both replicas consume: the ledger's consumer group has one member per replica, each with partitions.
            ConsumerGroupDescription ledger = consumerGroup("handoff-consent-ledger");
            assertEquals(2, ledger.members().size(), "both replicas are in the ledger's consumer group");
            ledger.members().forEach(m -> assertTrue(!m.assignment().topicPartitions().isEmpty(),
                    "every member has partitions: " + ledger));

            // Scheduled reconciliation: three fires both replicas competed for, each run once.
            long before = count(sql, FIRES);
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .until(() -> count(sql, FIRES) >= before + 3 && claims("lost") >= 3);
            await().atMost(Duration.ofSeconds(20)).until(() -> count(sql, "SELECT COUNT(*) FROM reconciliation_run"
                    + " WHERE status = 'running'") == 0);
            long won = claims("won");
            // Runs first: a fire claimed between the two counts then adds to fires only.
            long runs = count(sql, "SELECT COUNT(*) FROM reconciliation_run WHERE trigger_kind = 'schedule'");
            long fires = count(sql, FIRES);
            assertTrue(runs == fires || runs == fires - 1, "runs " + runs + " for fires " + fires);
            assertTrue(won == fires || won == fires - 1, "claims won " + won + " for fires " + fires);
            assertEquals(0, count(sql, "SELECT COUNT(*) FROM reconciliation_run WHERE status = 'failed'"));
            long finished = count(sql, "SELECT COUNT(*) FROM reconciliation_run WHERE status = 'completed'");
            // The lists asked for (Salesforce's lane also looks contacts up by email, which finds none here).
            int asked = vendors.findAll(getRequestedFor(urlPathEqualTo("/services/data/v64.0/query"))
                    .withQueryParam("q", containing("HasOptedOutOfEmail=true"))).size();
            assertTrue(asked == finished || asked == finished + 1, asked + " list requests for " + finished
                    + " finished runs (one more may be on its way)");

            // A replica dies (a lost node: no shutdown). The other one takes over its partitions and the schedule.
            hubs.get(0).kill();
            Instant killed = Instant.now();
            for (int n = 20; n < 25; n++) {
                String email = "replica-" + n + "@example.com";
                emails.add(email);
                assertEquals(200, postShopify(http[1], UUID.randomUUID().toString(), optOut(1000 + n, email))
                        .get(30, TimeUnit.SECONDS));
            }
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .until(() -> loyaltyCalls().size() >= 25);
            assertEquals(new TreeSet<>(emails), emailsOf(loyaltyCalls()), "nothing sent after the kill was lost");
            assertEquals(25, count(sql, "SELECT COUNT(*) FROM consent_history WHERE changed"));
            // Every later fire is the survivor's, and runs: the dead replica's run, if it was in one, is found
            // abandoned (HUB_RECONCILIATION_STALE_AFTER_MS) instead of holding the system's lock.
            String after = " AND claimed_at > TIMESTAMP '" + java.sql.Timestamp.from(killed.plusSeconds(1)) + "'";
            String completedAfter = "SELECT COUNT(*) FROM reconciliation_run WHERE trigger_kind = 'schedule' AND"
                    + " status = 'completed' AND started_at > TIMESTAMP '" + java.sql.Timestamp.from(killed) + "'";
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .until(() -> count(sql, FIRES + after) >= 3 && count(sql, completedAfter) >= 2);
            assertEquals(1, count(sql, "SELECT COUNT(DISTINCT claimed_by) FROM scheduled_fire WHERE job ="
                    + " 'reconcile-salesforce'" + after), "the surviving replica claims every fire");
            assertEquals(1, count(sql, completedAfter.replace("COUNT(*)", "COUNT(DISTINCT owner)")));
            // The survivor holds every partition of the ledger's topic once the dead member's session has expired.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
                ConsumerGroupDescription group = consumerGroup("handoff-consent-ledger");
                return group.members().size() == 1 && group.members().iterator().next().assignment()
                        .topicPartitions().stream().filter(p -> p.topic().equals("handoff.consent")).count() == 3;
            });
        }
    }

    /** The topic names of k8s/base/kafka-topics.yaml, the topics a cluster run by Strimzi holds. */
    static Set<String> manifestTopics() throws IOException {
        Set<String> topics = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^\\s+topicName:\\s*(\\S+)\\s*$")
                .matcher(Files.readString(Path.of("k8s", "base", "kafka-topics.yaml")));
        while (m.find()) {
            topics.add(m.group(1));
        }
        return topics;
    }

    /**
     * The files routes/kustomization.yaml puts in the routes ConfigMap, laid out as the kubelet mounts a ConfigMap:
     * the files in a timestamped folder, {@code ..data} pointing at it, and each name a symlink through {@code ..data}.
     */
    static Path mountedConfigMap(Path mount) throws IOException {
        Path data = mount.resolve("..2026_11_24_00_00_00.000000001");
        Files.createDirectories(data);
        Matcher listed = Pattern.compile("(?m)^\\s+-\\s+(\\S+\\.yaml)\\s*$")
                .matcher(Files.readString(Path.of("routes", "kustomization.yaml")));
        int files = 0;
        while (listed.find()) {
            Files.copy(Path.of("routes", listed.group(1)), data.resolve(listed.group(1)));
            Files.createSymbolicLink(mount.resolve(listed.group(1)), Path.of("..data", listed.group(1)));
            files++;
        }
        Files.createSymbolicLink(mount.resolve("..data"), data.getFileName());
        assertTrue(files > 20, "routes/kustomization.yaml lists the routes");
        return mount;
    }

    /**
     * The database both replicas share, as the environment variables that point a hub at it (plus {@code url} and
     * {@code user} for the test's own connection): it runs outside both hubs, so killing one leaves it up.
     */
    Map<String, String> sharedDatabase(Path root, int port) throws SQLException {
        Map<String, String> db = new HashMap<>();
        if ("postgresql".equals(System.getProperty("hub.test.db"))) {
            postgres = HubTestResource.createPostgresDatabase("handoff_replicas_");
            db.put("url", "jdbc:postgresql://127.0.0.1:5432/" + postgres);
            db.put("user", "postgres");
            db.putAll(Map.of("HUB_DB_KIND", "postgresql", "HUB_DB_URL", db.get("url"), "HUB_DB_USERNAME", "postgres",
                    "HUB_DB_PASSWORD", ""));
        } else {
            h2 = Server.createTcpServer("-tcpPort", Integer.toString(port), "-baseDir", root.toString(),
                    "-ifNotExists").start();
            db.put("url", "jdbc:h2:tcp://127.0.0.1:" + port + "/shared;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;"
                    + "DEFAULT_NULL_ORDERING=HIGH");
            db.put("user", "sa");
            db.put("QUARKUS_DATASOURCE_H2_JDBC_URL", db.get("url"));
        }
        return db;
    }

    /** The environment of both replicas, as k8s/ would set it. */
    Map<String, String> environment(Path routes, Map<String, String> db) {
        Map<String, String> env = new HashMap<>();
        env.putAll(Map.of("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers(), "HUB_KAFKA_TOPICS_CREATE", "false",
                "HUB_ROUTES_DIR", routes.toString(), "HUB_SANDBOX_ENABLED", "false"));
        db.forEach((name, value) -> {
            if (name.equals(name.toUpperCase())) {
                env.put(name, value);
            }
        });
        env.put("HUB_SYSTEMS_SHOPIFY_WEBHOOK_SECRET", SECRET);
        env.put("HUB_SYSTEMS_SALESFORCE_BASE_URL", vendors.baseUrl());
        env.put("HUB_SYSTEMS_SALESFORCE_ACCESS_TOKEN", "test-token");
        env.put("HUB_SYSTEMS_SALESFORCE_RECONCILE_CRON", "*/3 * * * * ?");
        // A run whose replica died stops holding the system's lock after 5 s instead of 10 minutes.
        env.put("HUB_RECONCILIATION_STALE_AFTER_MS", "5000");
        env.put("HUB_SYSTEMS_LOYALTY_BASE_URL", vendors.baseUrl());
        env.put("HUB_SYSTEMS_LOYALTY_API_KEY", "loyalty-key");
        return env;
    }

    static byte[] optOut(long customerId, String email) {
        return Webhooks.shopifyConsent(customerId, email, "unsubscribed", Instant.now());
    }

    static CompletableFuture<Integer> postShopify(int port, String webhookId, byte[] body) {
        return HTTP.sendAsync(Webhooks.shopifyRequest("http://127.0.0.1:" + port, Webhooks.SHOPIFY_CONSENT_TOPIC,
                webhookId, body, SECRET), HttpResponse.BodyHandlers.discarding()).thenApply(HttpResponse::statusCode);
    }

    List<LoggedRequest> loyaltyCalls() {
        return vendors.findAll(postRequestedFor(urlPathEqualTo("/api/v1/consent-events")));
    }

    static Set<String> emailsOf(List<LoggedRequest> calls) {
        Set<String> emails = new TreeSet<>();
        Pattern email = Pattern.compile("\"email\":\\s*\"([^\"]+)\"");
        for (LoggedRequest call : calls) {
            Matcher m = email.matcher(call.getBodyAsString());
            assertTrue(m.find(), call.getBodyAsString());
            emails.add(m.group(1));
        }
        return emails;
    }

    /** The CloudEvent ids of every record on the consent topic, read from the start of every partition. */
    List<String> consentEventIds() throws IOException {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        List<String> ids = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor("handoff.consent").stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofSeconds(1))) {
                    ids.add(JSON.readTree(record.value()).path("id").asText());
                }
            }
        }
        return ids;
    }

    ConsumerGroupDescription consumerGroup(String group) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            return admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
        }
    }

    /** Reconciliation fires claimed ({@code won}) or lost by the two replicas, from their metrics. */
    long claims(String outcome) throws IOException, InterruptedException {
        long claims = 0;
        for (PackagedHub hub : hubs) {
            Matcher m = Pattern.compile("handoff_schedule_claims_total\\{job=\"reconcile-salesforce\",outcome=\""
                    + outcome + "\"} ([0-9.E]+)").matcher(hub.metrics());
            claims += m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
        }
        return claims;
    }

    static long count(Connection sql, String query) throws SQLException {
        try (Statement s = sql.createStatement(); ResultSet rs = s.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
