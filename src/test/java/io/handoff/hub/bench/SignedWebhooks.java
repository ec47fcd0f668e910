package io.handoff.hub.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Sends signed Shopify {@code customers_email_marketing_consent/update} webhooks open loop: each one leaves at its slot
 * of a fixed rate whatever the answers do, so a slow hub shows as latency and not as a lower offered rate. With
 * retries on, a delivery that is not answered 2xx is sent again later, the way Shopify retries, until it is accepted
 * or ten minutes passed.
 */
final class SignedWebhooks implements AutoCloseable {

    /** One consent change of one customer, as the storefront reports it. */
    record Change(long customerId, String email, boolean subscribed, Instant at, String webhookId) {

        byte[] body() {
            return ("{\"customer_id\":" + customerId + ",\"email_address\":\"" + email + "\","
                    + "\"email_marketing_consent\":{\"state\":\"" + (subscribed ? "subscribed" : "unsubscribed")
                    + "\",\"opt_in_level\":\"single_opt_in\",\"consent_updated_at\":\"" + at + "\"}}")
                    .getBytes(StandardCharsets.UTF_8);
        }
    }

    /** What a run of sends saw. */
    record Result(int sent, int accepted, int neverAccepted, int retries, double seconds, List<Long> answerMicros,
            boolean[] acceptedByIndex) {

        double offeredPerSecond() {
            return sent / seconds;
        }
    }

    private static final long GIVE_UP_NANOS = TimeUnit.MINUTES.toNanos(10);

    private final String url;
    private final Mac mac;
    private final ExecutorService answers = Executors.newFixedThreadPool(8);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .executor(answers).connectTimeout(Duration.ofSeconds(2)).build();
    private final ScheduledExecutorService clock = Executors.newScheduledThreadPool(2);

    SignedWebhooks(String hubUrl, String secret) throws GeneralSecurityException {
        this.url = hubUrl + "/webhooks/shopify";
        this.mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    }

    /** Sends the changes at {@code rate} per second; answers once every one was accepted or given up. */
    Result send(List<Change> changes, int rate, boolean retry) throws InterruptedException {
        List<HttpRequest> requests = new ArrayList<>(changes.size());
        for (Change c : changes) {
            requests.add(request(c, c.webhookId()));
        }
        ConcurrentLinkedQueue<Long> answers = new ConcurrentLinkedQueue<>();
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger givenUp = new AtomicInteger();
        AtomicInteger retries = new AtomicInteger();
        AtomicLong lastSlot = new AtomicLong();
        CompletableFuture<?>[] done = new CompletableFuture<?>[requests.size()];
        boolean[] acceptedByIndex = new boolean[requests.size()];
        long periodNanos = 1_000_000_000L / rate;
        long start = System.nanoTime();
        for (int i = 0; i < requests.size(); i++) {
            CompletableFuture<Void> finished = new CompletableFuture<>();
            int index = i;
            done[i] = finished.thenRun(() -> acceptedByIndex[index] = true);
            HttpRequest request = requests.get(i);
            long slot = start + i * periodNanos;
            clock.schedule(() -> {
                lastSlot.set(System.nanoTime());
                attempt(request, slot, 0, retry, answers, accepted, givenUp, retries, finished);
            }, slot - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
        CompletableFuture.allOf(done).exceptionally(e -> null).join();
        for (CompletableFuture<?> f : done) {
            f.exceptionally(e -> null).join(); // allOf completes early on the first failure
        }
        double seconds = (lastSlot.get() - start) / 1e9 + 1.0 / rate;
        List<Long> sorted = new ArrayList<>(answers);
        sorted.sort(null);
        return new Result(requests.size(), accepted.get(), givenUp.get(), retries.get(), seconds, sorted,
                acceptedByIndex);
    }

    private void attempt(HttpRequest request, long firstSent, int attempt, boolean retry,
            ConcurrentLinkedQueue<Long> answers, AtomicInteger accepted, AtomicInteger givenUp, AtomicInteger retries,
            CompletableFuture<Void> finished) {
        http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
            boolean ok = error == null && response.statusCode() / 100 == 2;
            if (attempt == 0 && ok) {
                // From the send's slot, not from when the sender got to it (no coordinated omission); answers that
                // are not 2xx are counted apart (sent - accepted), not mixed into the latencies.
                answers.add((System.nanoTime() - firstSent) / 1000);
            }
            if (ok) {
                accepted.incrementAndGet();
                finished.complete(null);
            } else if (!retry || System.nanoTime() - firstSent > GIVE_UP_NANOS) {
                givenUp.incrementAndGet();
                finished.completeExceptionally(new IllegalStateException("not accepted"));
            } else {
                retries.incrementAndGet();
                long backoff = Math.min(5_000, 500L << Math.min(attempt, 4));
                clock.schedule(() -> attempt(request, firstSent, attempt + 1, true, answers, accepted, givenUp,
                        retries, finished), backoff, TimeUnit.MILLISECONDS);
            }
        });
    }

    /** Closed loop with {@code connections} senders for {@code seconds}: the accepted webhooks per second. */
    double saturation(List<Change> changes, int connections, int seconds) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger accepted = new AtomicInteger();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Thread> senders = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            senders.add(startThread(() -> {
                HttpClient own = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                while (System.nanoTime() < end) {
                    int n = next.getAndIncrement();
                    Change change = changes.get(Math.floorMod(n, changes.size()));
                    try {
                        HttpResponse<Void> r = own.send(request(change, change.webhookId() + "-" + n),
                                HttpResponse.BodyHandlers.discarding());
                        if (r.statusCode() / 100 == 2 && System.nanoTime() < end) {
                            accepted.incrementAndGet();
                        }
                    } catch (IOException e) {
                        // counted as not accepted
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }));
        }
        for (Thread t : senders) {
            t.join();
        }
        return accepted.get() / (double) seconds;
    }

    /** The signed webhook Shopify would send for the change, under this webhook id. */
    private HttpRequest request(Change change, String webhookId) {
        byte[] body = change.body();
        String signature;
        synchronized (mac) {
            signature = Base64.getEncoder().encodeToString(mac.doFinal(body));
        }
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").header("X-Shopify-Hmac-Sha256", signature)
                .header("X-Shopify-Topic", "customers_email_marketing_consent/update")
                .header("X-Shopify-Shop-Domain", "bench.myshopify.com").header("X-Shopify-API-Version", "2026-07")
                .header("X-Shopify-Webhook-Id", webhookId).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    private static Thread startThread(Runnable body) {
        Thread t = new Thread(body, "bench-sender");
        t.start();
        return t;
    }

    /** The value at percentile {@code p} (0 to 100) of a sorted list. */
    static long percentile(List<Long> sorted, double p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1)));
    }

    @Override
    public void close() {
        clock.shutdownNow();
        answers.shutdownNow();
    }
}
