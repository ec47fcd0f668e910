// Propagation benchmark: open-loop signed Shopify opt-outs at a fixed rate against a running hub (sandbox vendors),
// then, per opt-out, the time from the hub's receipt of the webhook to the last subscriber's confirmed receipt.
//
//   java docs/bench/PropagationLoad.java [--rate 200] [--seconds 30] [--hub http://localhost:8080]
//        [--secret demo-shopify-secret] [--token demo-admin-token] [--systems klaviyo,salesforce,hubspot,loyalty]
//
// Only the JDK: run it with `java <file>` (single-file source launch). Open loop: each send is scheduled at its
// slot whatever the answers do, so a slow hub shows up as latency, not as a lower offered rate.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public class PropagationLoad {

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>(Map.of("--rate", "200", "--seconds", "30", "--hub", "http://localhost:8080",
                "--secret", "demo-shopify-secret", "--token", "demo-admin-token", "--systems", "klaviyo,salesforce,hubspot,loyalty"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i], args[i + 1]);
        }
        int rate = Integer.parseInt(opt.get("--rate"));
        int seconds = Integer.parseInt(opt.get("--seconds"));
        String hub = opt.get("--hub");
        List<String> systems = List.of(opt.get("--systems").split(","));
        int total = rate * seconds;
        String run = UUID.randomUUID().toString().substring(0, 8);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(Executors.newFixedThreadPool(8)).connectTimeout(Duration.ofSeconds(5)).build();
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(opt.get("--secret").getBytes(StandardCharsets.UTF_8), "HmacSHA256"));

        List<byte[]> bodies = new ArrayList<>(total);
        List<String> signatures = new ArrayList<>(total);
        // Shopify ids unique per run: the hub resolves customers by system id first.
        long firstId = 8_000_000_000_000_000_000L + (long) (Math.random() * 1e9) * 100_000L;
        for (int i = 0; i < total; i++) {
            byte[] body = ("{\"customer_id\":" + (firstId + i) + ",\"email_address\":\"bench-" + run + "-" + i
                    + "@example.com\",\"email_marketing_consent\":{\"state\":\"unsubscribed\",\"opt_in_level\":\"single_opt_in\","
                    + "\"consent_updated_at\":\"" + Instant.now() + "\"}}").getBytes(StandardCharsets.UTF_8);
            bodies.add(body);
            signatures.add(Base64.getEncoder().encodeToString(mac.doFinal(body)));
        }
        ConcurrentLinkedQueue<Long> answerMicros = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Integer> failures = new ConcurrentLinkedQueue<>();
        List<CompletableFuture<?>> inFlight = Collections.synchronizedList(new ArrayList<>());
        ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
        long periodNanos = 1_000_000_000L / rate;
        long start = System.nanoTime();
        System.out.printf("run %s: %d opt-outs at %d/s to %s%n", run, total, rate, hub);
        for (int i = 0; i < total; i++) {
            int n = i;
            clock.schedule(() -> {
                long sent = System.nanoTime();
                HttpRequest request = HttpRequest.newBuilder(URI.create(hub + "/webhooks/shopify"))
                        .header("Content-Type", "application/json").header("X-Shopify-Hmac-Sha256", signatures.get(n))
                        .header("X-Shopify-Topic", "customers_email_marketing_consent/update")
                        .header("X-Shopify-Shop-Domain", "bench.myshopify.com").header("X-Shopify-API-Version", "2026-07")
                        .header("X-Shopify-Webhook-Id", run + "-" + n)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(bodies.get(n))).build();
                inFlight.add(http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
                    answerMicros.add((System.nanoTime() - sent) / 1000);
                    if (e != null || r.statusCode() != 200) {
                        failures.add(e != null ? -1 : r.statusCode());
                    }
                }));
            }, start + n * periodNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
        clock.shutdown();
        clock.awaitTermination(seconds + 60L, TimeUnit.SECONDS);
        CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
        double offered = total / ((System.nanoTime() - start) / 1e9);
        System.out.printf("sent %d in %.1f s (%.0f/s offered); non-200 answers: %d%n", total,
                (System.nanoTime() - start) / 1e9, offered, failures.size());
        List<Long> answers = new ArrayList<>(answerMicros);
        Collections.sort(answers);
        System.out.printf("webhook answer (ms): p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f%n", pct(answers, 50) / 1000.0,
                pct(answers, 99) / 1000.0, pct(answers, 99.9) / 1000.0, answers.get(answers.size() - 1) / 1000.0);

        // Per opt-out: the last subscriber's delay from the hub's receipt of the webhook (receipts' delayMs).
        Pattern receipt = Pattern.compile("\"system\":\"([a-z0-9-]+)\"[^{}]*?\"status\":\"([a-z]+)\"[^{}]*?\"delayMs\":(null|\\d+)");
        List<Long> lastDelays = new ArrayList<>();
        Map<String, List<Long>> perSystem = new HashMap<>();
        int incomplete = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (int i = 0; i < total; i++) {
            String email = "bench-" + run + "-" + i + "@example.com";
            while (true) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(hub + "/api/customers/" + email + "/consent"))
                        .header("Authorization", "Bearer " + opt.get("--token")).build(), HttpResponse.BodyHandlers.ofString());
                Map<String, Long> delays = new HashMap<>();
                Matcher m = receipt.matcher(r.body());
                while (m.find()) {
                    if (m.group(2).equals("delivered")) {
                        delays.put(m.group(1), Long.parseLong(m.group(3)));
                    }
                }
                if (delays.keySet().containsAll(systems)) {
                    long last = 0;
                    for (String s : systems) {
                        perSystem.computeIfAbsent(s, k -> new ArrayList<>()).add(delays.get(s));
                        last = Math.max(last, delays.get(s));
                    }
                    lastDelays.add(last);
                    break;
                }
                if (System.nanoTime() > deadline) {
                    incomplete++;
                    break;
                }
                Thread.sleep(50);
            }
        }
        Collections.sort(lastDelays);
        System.out.printf("webhook receipt -> last of %s confirmed (ms), %d opt-outs: p50 %d  p90 %d  p99 %d  max %d;"
                + " not confirmed within 120 s: %d%n", systems, lastDelays.size(), pct(lastDelays, 50), pct(lastDelays, 90),
                pct(lastDelays, 99), lastDelays.isEmpty() ? 0 : lastDelays.get(lastDelays.size() - 1), incomplete);
        for (String s : systems) {
            List<Long> d = perSystem.getOrDefault(s, new ArrayList<>());
            Collections.sort(d);
            System.out.printf("  %-10s p50 %d  p99 %d%n", s, pct(d, 50), pct(d, 99));
        }
        System.exit(0);
    }

    static long pct(List<Long> sorted, double p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
