package io.handoff.hub.bench;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.event.CustomerRefs;
import io.handoff.hub.event.EventType;
import io.handoff.hub.kafka.EmbeddedKafkaBroker;
import io.handoff.hub.support.Json;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;

/**
 * The load tool (issue 8): one run measures this machine's limits and the hub against them.
 * <ol>
 * <li>Raw Kafka producer throughput to the run's broker (the record size and acks of a webhook).</li>
 * <li>A bare endpoint on the same HTTP stack (Vert.x) that only sends the body to Kafka: saturation and answer
 * latency at fixed rates.</li>
 * <li>The packaged hub against the same broker, with the four simulated subscribers: start-up to ready, RSS idle,
 * propagation (webhook receipt to the last subscriber's confirmed receipt) at fixed rates, intake answer latency at
 * fixed rates, intake saturation, RSS under load.</li>
 * </ol>
 * Open loop at fixed rates, closed loop for saturation. Not part of the default build:
 * {@code ./mvnw -B verify -Pbench -Dit.test=LoadBench} (results in {@code target/bench/results.txt}).
 */
class LoadBench {

    static final int SECONDS = Integer.getInteger("bench.seconds", 20);
    static final List<Integer> INTAKE_RATES = rates("bench.intake-rates", "100,200,500,1000");
    static final List<Integer> PROPAGATION_RATES = rates("bench.propagation-rates", "50,200,1000");
    static final int CONNECTIONS = Integer.getInteger("bench.connections", 32);
    static final List<String> SUBSCRIBERS = FaultRunsBench.SUBSCRIBERS;
    /**
     * Consent events loaded straight onto the consent topic for the ledger step: enough for more than 60 s of
     * decisions at up to 1,500/s (the aim is 1,000/s sustained for 60 s; a faster run is reported as not shown).
     */
    static final int LEDGER_EVENTS = Integer.getInteger("bench.ledger-events", 90_000);
    /** The steps to run: start-up, baselines, ledger, propagation, intake, saturation (default: all). */
    static final List<String> STEPS = List.of(System.getProperty("bench.steps",
            "start-up,baselines,ledger,propagation,intake,saturation").split(","));

    final List<String> lines = new ArrayList<>();
    /** What the aims of issue 17 are judged on, filled by the steps that ran. */
    final Map<String, Double> measured = new HashMap<>();
    final String tag = UUID.randomUUID().toString().substring(0, 8);
    long nextCustomer = 5_000_000_000_000L;

    @Test
    void hubAgainstTheMachinesLimits() throws Exception {
        Path dir = Path.of("target", "bench", "load", tag).toAbsolutePath();
        Files.createDirectories(dir);
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(BenchHub.freePort(), BenchHub.freePort(),
                dir.resolve("kafka"));
        if (STEPS.contains("start-up")) {
            embeddedDefaultStartUp(dir.resolve("embedded"));
        }
        broker.start();
        try (BenchVendors vendors = new BenchVendors()) {
            int recordSize = changes("size", 1).get(0).body().length;
            Map<Integer, List<Long>> bare = new HashMap<>();
            double bareSaturation = Double.NaN;
            if (STEPS.contains("baselines")) {
                rawProducer(broker.bootstrapServers(), recordSize);
                bareSaturation = bareEndpoint(broker.bootstrapServers(), bare);
            }

            BenchHub.Database db = BenchHub.Database.create(dir);
            try (BenchHub hub = new BenchHub(dir.resolve("hub"), broker.bootstrapServers(), db, vendors.baseUrl(),
                    System.getProperty("bench.heap", "512m"), Map.of());
                    SignedWebhooks webhooks = new SignedWebhooks(hub.url(), BenchHub.SHOPIFY_SECRET)) {
                long ready = hub.start();
                // Warm-up, 60 s at 50/s: the JIT compiles the hot paths (without it the first minute's latencies are
                // ten to fifty times the warm ones), pools fill, the vendors' first contacts exist.
                long warmFrom = mark(db, "delivery");
                webhooks.send(changes("warm", 3_000), 50, false);
                await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> confirmedCount(db, "warm", warmFrom) >= 3_000);
                long idle = hub.rssMiB();
                note("hub start-up to ready: %d ms; RSS after a 60 s warm-up at 50/s: %d MiB; heap -Xmx%s;"
                        + " database %s", ready, idle, System.getProperty("bench.heap", "512m"), db.kind());
                AtomicLong peakRss = new AtomicLong();
                ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
                sampler.scheduleAtFixedRate(() -> {
                    try {
                        peakRss.accumulateAndGet(hub.rssMiB(), Math::max);
                    } catch (Exception e) {
                        // the hub is gone; the run fails elsewhere
                    }
                }, 0, 500, TimeUnit.MILLISECONDS);
                if (STEPS.contains("ledger")) {
                    ledger(broker.bootstrapServers(), db, hub);
                }
                for (int rate : STEPS.contains("propagation") ? PROPAGATION_RATES : List.<Integer>of()) {
                    propagation(webhooks, db, rate, bare.get(rate));
                }
                for (int rate : STEPS.contains("intake") ? INTAKE_RATES : List.<Integer>of()) {
                    List<SignedWebhooks.Change> batch = changes("in" + rate, rate * SECONDS);
                    SignedWebhooks.Result r = webhooks.send(batch, rate, false);
                    List<Long> b = bare.get(rate);
                    measured.put("intake-not-2xx-" + rate, (double) (r.sent() - r.accepted()));
                    note("intake at %d/s (%.0f/s offered): hub answer p50 %.1f / p99 %.1f / p99.9 %.1f ms, %d not 2xx;"
                            + " bare p50 %.1f / p99 %.1f / p99.9 %.1f ms", rate, r.offeredPerSecond(),
                            ms(r.answerMicros(), 50), ms(r.answerMicros(), 99), ms(r.answerMicros(), 99.9),
                            r.sent() - r.accepted(), ms(b, 50), ms(b, 99), ms(b, 99.9));
                }
                double saturation = STEPS.contains("saturation")
                        ? webhooks.saturation(changes("sat", 50_000), CONNECTIONS, SECONDS) : Double.NaN;
                note("intake saturation (%d connections, closed loop, %d s): hub %.0f accepted/s, bare %.0f/s,"
                        + " hub / bare = %.0f%%", CONNECTIONS, SECONDS, saturation, bareSaturation,
                        100 * saturation / bareSaturation);
                sampler.shutdownNow();
                note("hub RSS peak under load: %d MiB (sampled every 500 ms)", peakRss.get());
                measured.put("saturation-share", saturation / bareSaturation);
                measured.put("rss-peak", (double) peakRss.get());
                measured.put("out-of-memory", hub.outOfMemory() ? 1.0 : 0.0);
                aims();
                assertTrue(!(saturation <= 0), "the hub accepted webhooks");
            }
        } finally {
            broker.stop();
            try {
                long h2Mib = BenchHub.dropData(dir);
                if (h2Mib >= 0) {
                    note("H2 file at the end of the run: %d MiB", h2Mib);
                }
                // The start-up step's embedded hub keeps its H2 file and Kafka log under its own data folder.
                BenchHub.dropData(dir.resolve("embedded").resolve("hub"));
            } catch (IOException e) {
                note("the run's data could not be deleted: %s", e);
            }
            Path results = Path.of("target", "bench", "results.txt");
            Files.createDirectories(results.getParent());
            StringBuilder all = new StringBuilder();
            lines.forEach(l -> all.append(Instant.now()).append(" load ").append(l).append(System.lineSeparator()));
            Files.writeString(results, all, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    /** The README's first command: the hub with its own broker, H2 and sandbox; first start, then a restart. */
    void embeddedDefaultStartUp(Path dir) throws Exception {
        try (BenchHub hub = new BenchHub(dir.resolve("hub"), null, null, null, System.getProperty("bench.heap", "512m"),
                Map.of())) {
            long first = hub.start();
            long rss = hub.rssMiB();
            hub.close();
            long again = hub.start();
            note("embedded default (own Kafka broker, H2, sandbox): ready %d ms after the process started on an empty"
                    + " folder (RSS then %d MiB), %d ms on a restart with the data kept", first, rss, again);
        }
    }

    /** Records/s of a plain producer with the hub's settings (acks=all, idempotence) and the webhook's size. */
    void rawProducer(String bootstrap, int size) throws Exception {
        createTopic(bootstrap, "bench.raw");
        byte[] value = new byte[size];
        int records = 200_000;
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap)) {
            for (int i = 0; i < 5_000; i++) {
                producer.send(new ProducerRecord<>("bench.raw", value)); // warm-up
            }
            producer.flush();
            long start = System.nanoTime();
            CountDownLatch acked = new CountDownLatch(records);
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>("bench.raw", Long.toString(i).getBytes(), value),
                        (m, e) -> acked.countDown());
            }
            acked.await();
            double seconds = (System.nanoTime() - start) / 1e9;
            note("raw Kafka producer: %d records of %d bytes, acks=all, idempotent: %.0f records/s", records, size,
                    records / seconds);
        }
    }

    /** A Vert.x endpoint that sends each body to Kafka and answers 200 on the broker's ack (503 on an error). */
    double bareEndpoint(String bootstrap, Map<Integer, List<Long>> latencies) throws Exception {
        createTopic(bootstrap, "bench.bare");
        Vertx vertx = Vertx.vertx();
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap)) {
            HttpServer server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body ->
                    producer.send(new ProducerRecord<>("bench.bare", request.getHeader("X-Shopify-Webhook-Id")
                            .getBytes(), body.getBytes()), (m, e) -> request.response().setStatusCode(e == null ? 200
                                    : 503).end()))).listen(BenchHub.freePort()).toCompletionStage()
                    .toCompletableFuture().get(10, TimeUnit.SECONDS);
            try (SignedWebhooks webhooks = new SignedWebhooks("http://127.0.0.1:" + server.actualPort(), "bare")) {
                webhooks.send(changes("bare-warm", 2_000), 200, false);
                List<Integer> rates = new ArrayList<>(INTAKE_RATES);
                PROPAGATION_RATES.stream().filter(r -> !rates.contains(r)).forEach(rates::add);
                for (int rate : rates) {
                    SignedWebhooks.Result r = webhooks.send(changes("bare" + rate, rate * SECONDS), rate, false);
                    latencies.put(rate, r.answerMicros());
                    note("bare endpoint at %d/s: answer p50 %.1f / p99 %.1f / p99.9 %.1f ms, %d not 2xx", rate,
                            ms(r.answerMicros(), 50), ms(r.answerMicros(), 99), ms(r.answerMicros(), 99.9),
                            r.sent() - r.accepted());
                }
                double saturation = webhooks.saturation(changes("bare-sat", 50_000), CONNECTIONS, SECONDS);
                note("bare endpoint saturation (%d connections, closed loop, %d s): %.0f accepted/s", CONNECTIONS,
                        SECONDS, saturation);
                return saturation;
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * The ledger alone: {@link #LEDGER_EVENTS} consent.changed CloudEvents (distinct customers, as intake maps a
     * Shopify opt-out) written straight onto the consent topic, so intake does not limit it. Decisions per second
     * over the span from the first to the last decision recorded; then the time until every subscriber confirmed.
     */
    void ledger(String bootstrap, BenchHub.Database db, BenchHub hub) throws Exception {
        String prefix = "ledger-" + tag;
        long writtenBefore = hub.writtenMiB();
        long decidedFrom = mark(db, "consent_history");
        long plannedFrom = mark(db, "delivery");
        CanonicalEventCodec codec = new CanonicalEventCodec();
        Instant at = Instant.now().minusSeconds(60);
        long produceStart = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap)) {
            for (int i = 0; i < LEDGER_EVENTS; i++) {
                ObjectNode customer = CustomerRefs.of(prefix + "-" + i + "@example.com", null, "shopify",
                        Long.toString(nextCustomer++));
                ObjectNode data = Json.MAPPER.createObjectNode();
                data.set("customer", customer);
                data.put("channel", "email").put("purpose", "marketing").put("state", "unsubscribed");
                String key = CustomerRefs.key(customer);
                CanonicalEvent event = new CanonicalEvent(prefix + "-" + i, "/systems/shopify",
                        EventType.CONSENT_CHANGED, key, at, Instant.now(), CanonicalEvent.TimeSource.PAYLOAD,
                        Map.of(), data, key);
                producer.send(new ProducerRecord<>("handoff.consent", key.getBytes(), codec.write(event)));
            }
            producer.flush();
        }
        double produced = (System.nanoTime() - produceStart) / 1e9;
        long[] decided = new long[1];
        try {
            await().atMost(Duration.ofMinutes(30)).pollInterval(Duration.ofSeconds(5)).until(() -> {
                decided[0] = decisions(db, prefix, decidedFrom)[0];
                return decided[0] >= LEDGER_EVENTS;
            });
        } catch (ConditionTimeoutException e) {
            // reported: fewer decided than loaded
        }
        long[] span = decisions(db, prefix, decidedFrom);
        double seconds = Math.max(span[2] - span[1], 1) / 1000.0;
        measured.put("ledger", span[0] / seconds);
        measured.put("ledger-seconds", seconds);
        note("ledger: %d consent.changed loaded onto the topic in %.1f s; %d decided in %.1f s from the first to the"
                + " last decision = %.0f decisions/s", LEDGER_EVENTS, produced, span[0], seconds, span[0] / seconds);
        long sent = System.nanoTime();
        try {
            await().atMost(Duration.ofMinutes(30)).pollInterval(Duration.ofSeconds(5))
                    .until(() -> confirmedCount(db, prefix, plannedFrom) >= LEDGER_EVENTS);
        } catch (ConditionTimeoutException e) {
            // reported below
        }
        note("ledger step: %d of %d changes confirmed by all four subscribers %.0f s after the last decision",
                confirmedCount(db, prefix, plannedFrom), LEDGER_EVENTS, (System.nanoTime() - sent) / 1e9);
        long written = hub.writtenMiB() - writtenBefore;
        note("ledger step: the hub wrote %d MiB to storage from the load to the last confirmation (%.0f KiB per change;"
                + " the database's pages, and the embedded broker's log if the hub runs one)", written,
                written * 1024.0 / LEDGER_EVENTS);
    }

    /**
     * The aims of issue 17, met or missed, as a table (a missed aim is printed as missed). An aim whose step did not
     * run is left out.
     */
    void aims() {
        note("aims (2 cores; each must hold on H2 and on PostgreSQL, this run: the database above):");
        Double ledgerSeconds = measured.get("ledger-seconds");
        if (ledgerSeconds != null && ledgerSeconds < 60 && measured.get("ledger") >= 1_000) {
            // The rate was reached, but the step's events were decided in under a minute: not shown to be sustained.
            note("  | ledger >= 1,000 decisions/s sustained for 60 s | %.0f decisions/s for only %.0f s | NOT SHOWN"
                    + " (raise -Dbench.ledger-events) |", measured.get("ledger"), ledgerSeconds);
        } else {
            aim("ledger >= 1,000 decisions/s sustained for 60 s", "ledger", v -> v >= 1_000, "%.0f decisions/s");
        }
        aim("intake saturation >= 50 % of the bare endpoint", "saturation-share", v -> v >= 0.5, "%.0f %%", 100);
        aim("intake: 0 not 2xx at 1,000/s open loop", "intake-not-2xx-1000", v -> v == 0, "%.0f not 2xx");
        aim("propagation p99 < 250 ms at 200/s", "propagation-p99-200", v -> v < 250, "%.0f ms");
        aim("propagation p99 < 2 s at 1,000/s", "propagation-p99-1000", v -> v < 2_000, "%.0f ms");
        aim("backlog drained within 5 s of the last send at 1,000/s", "propagation-drained-1000", v -> v <= 5,
                "%.0f s");
        aim("no OutOfMemoryError at -Xmx" + System.getProperty("bench.heap", "512m"), "out-of-memory", v -> v == 0,
                "%.0f OutOfMemoryError");
        if (measured.containsKey("rss-peak")) {
            note("  peak RSS under load: %.0f MiB", measured.get("rss-peak"));
        }
    }

    private void aim(String aim, String key, java.util.function.DoublePredicate met, String format) {
        aim(aim, key, met, format, 1);
    }

    private void aim(String aim, String key, java.util.function.DoublePredicate met, String format, double scale) {
        Double value = measured.get(key);
        if (value == null || value.isNaN()) {
            return;
        }
        String rate = key.substring(key.lastIndexOf('-') + 1);
        String shown = value.isInfinite() ? String.format("%.0f of %.0f opt-outs confirmed by all four",
                measured.get("propagation-confirmed-" + rate), measured.get("propagation-sent-" + rate))
                : String.format(format, value * scale);
        note("  | %s | %s | %s |", aim, shown, met.test(value) ? "met" : "MISSED");
    }

    /** Decisions recorded after {@code after} for events with the prefix: count, first and last recorded_at (epoch ms). */
    static long[] decisions(BenchHub.Database db, String prefix, long after) throws Exception {
        try (Connection c = db.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT COUNT(*), MIN(recorded_at), MAX(recorded_at) FROM consent_history WHERE id > " + after
                        + " AND event_id LIKE '" + prefix + "-%'")) {
            rs.next();
            OffsetDateTime first = rs.getObject(2, OffsetDateTime.class);
            OffsetDateTime last = rs.getObject(3, OffsetDateTime.class);
            return new long[] { rs.getLong(1), first == null ? 0 : first.toInstant().toEpochMilli(),
                last == null ? 0 : last.toInstant().toEpochMilli() };
        }
    }

    /** Opt-outs at a fixed rate; per opt-out, the hub's receipt of the webhook to the last subscriber's confirmation. */
    void propagation(SignedWebhooks webhooks, BenchHub.Database db, int rate, List<Long> bare) throws Exception {
        String prefix = "prop" + rate + "-" + tag;
        List<SignedWebhooks.Change> batch = changes(prefix, rate * SECONDS);
        long plannedFrom = mark(db, "delivery");
        SignedWebhooks.Result r = webhooks.send(batch, rate, false);
        long sent = System.nanoTime();
        try {
            await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> confirmedCount(db, prefix, plannedFrom) >= r.accepted());
        } catch (ConditionTimeoutException e) {
            // reported: fewer confirmed than accepted
        }
        double drained = (System.nanoTime() - sent) / 1e9;
        List<List<Long>> timings = confirmed(db, prefix, plannedFrom);
        List<Long> delays = timings.get(0);
        measured.put("propagation-p99-" + rate, delays.size() < r.sent() ? Double.POSITIVE_INFINITY
                : (double) pct(delays, 99));
        measured.put("propagation-drained-" + rate, drained);
        measured.put("propagation-confirmed-" + rate, (double) delays.size());
        measured.put("propagation-sent-" + rate, (double) r.sent());
        note("propagation at %d/s (%.0f/s offered, %d opt-outs, 4 subscribers): last confirmed p50 %d / p90 %d /"
                + " p99 %d / max %d ms; %d of %d confirmed by all four; backlog drained %.0f s after the last send;"
                + " hub p50 - bare answer p50 = %.0f ms, p99 - p99 = %.0f ms", rate, r.offeredPerSecond(), r.sent(),
                pct(delays, 50), pct(delays, 90), pct(delays, 99), pct(delays, 100), delays.size(), r.accepted(),
                drained, pct(delays, 50) - ms(bare, 50), pct(delays, 99) - ms(bare, 99));
        note("propagation at %d/s, by stage: receipt to planned (intake, ledger, planner) p50 %d / p99 %d ms; planned"
                + " to the last confirmation (lanes) p50 %d / p99 %d ms", rate, pct(timings.get(1), 50),
                pct(timings.get(1), 99), pct(timings.get(2), 50), pct(timings.get(2), 99));
    }

    /** Per opt-out with the prefix that every subscriber confirmed: milliseconds from receipt to the last. */
    /**
     * The highest row id of a table before a step: the step's rows come after it, so the bench's reads of the hub's
     * database stay range scans of the step's own rows. (They used to scan the whole table every second, which on
     * two cores took a third of the hub's CPU while it drained a backlog: the bench measured itself.)
     */
    static long mark(BenchHub.Database db, String table) throws Exception {
        try (Connection c = db.connect(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(id), 0) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** How many of the changes with the prefix (deliveries after {@code after}) all four subscribers confirmed. */
    static int confirmedCount(BenchHub.Database db, String prefix, long after) throws Exception {
        try (Connection c = db.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT COUNT(*) FROM (SELECT change_id FROM delivery" + stepRows(prefix, after) + " GROUP BY change_id"
                        + " HAVING " + CONFIRMED + " = " + SUBSCRIBERS.size() + ") AS confirmed")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * Per change with the prefix (deliveries after {@code after}) that all four subscribers confirmed, each list
     * sorted, in milliseconds: the hub's receipt of the webhook to the last subscriber's confirmation; the receipt to
     * its deliveries' planning (intake, ledger and planner); the planning to the last confirmation (the lanes).
     */
    static List<List<Long>> confirmed(BenchHub.Database db, String prefix, long after) throws Exception {
        List<Long> total = new ArrayList<>();
        List<Long> planned = new ArrayList<>();
        List<Long> lanes = new ArrayList<>();
        try (Connection c = db.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT " + CONFIRMED + ", MIN(received_at), MIN(planned_at), MAX(confirmed_at) FROM delivery"
                        + stepRows(prefix, after) + " GROUP BY change_id")) {
            while (rs.next()) {
                if (rs.getInt(1) == SUBSCRIBERS.size()) {
                    OffsetDateTime received = rs.getObject(2, OffsetDateTime.class);
                    OffsetDateTime at = rs.getObject(3, OffsetDateTime.class);
                    OffsetDateTime last = rs.getObject(4, OffsetDateTime.class);
                    total.add(Duration.between(received, last).toMillis());
                    planned.add(Duration.between(received, at).toMillis());
                    lanes.add(Duration.between(at, last).toMillis());
                }
            }
        }
        List<List<Long>> out = List.of(total, planned, lanes);
        out.forEach(l -> l.sort(null));
        return out;
    }

    /**
     * The step's rows: a primary-key range and the step's emails. The other conditions are counted, not filtered on,
     * so that neither database reads them through another index (H2 chose the index on system and status, which
     * holds every delivered row of the run).
     */
    private static String stepRows(String prefix, long after) {
        return " WHERE id > " + after + " AND email LIKE '" + prefix + "-%'";
    }

    /** Per change: the subscribers that confirmed it. */
    private static final String CONFIRMED = "SUM(CASE WHEN kind = 'consent' AND status = 'delivered' AND system IN ('"
            + String.join("','", SUBSCRIBERS) + "') THEN 1 ELSE 0 END)";

    List<SignedWebhooks.Change> changes(String prefix, int n) {
        List<SignedWebhooks.Change> out = new ArrayList<>(n);
        Instant at = Instant.now().minusSeconds(60);
        for (int i = 0; i < n; i++) {
            out.add(new SignedWebhooks.Change(nextCustomer++, prefix + "-" + i + "@example.com", false, at,
                    prefix + "-" + tag + "-" + i));
        }
        return out;
    }

    static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    static void createTopic(String bootstrap, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    void note(String format, Object... args) {
        String line = String.format(format, args);
        System.out.println("bench: " + line);
        lines.add(line);
    }

    static double ms(List<Long> micros, double p) {
        return micros == null ? Double.NaN : SignedWebhooks.percentile(micros, p) / 1000.0;
    }

    static long pct(List<Long> sorted, double p) {
        return SignedWebhooks.percentile(sorted, p);
    }

    static List<Integer> rates(String property, String defaults) {
        List<Integer> out = new ArrayList<>();
        for (String r : System.getProperty(property, defaults).split(",")) {
            out.add(Integer.parseInt(r.strip()));
        }
        return out;
    }
}
