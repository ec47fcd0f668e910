package io.handoff.hub.intake;

import static io.handoff.hub.support.HubTestResource.ADMIN_TOKEN;
import static io.handoff.hub.support.HubTestResource.CHECKOUT_SECRET;
import static io.handoff.hub.support.HubTestResource.SHOPIFY_SECRET;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import io.handoff.hub.intake.signed.StandardWebhookVerifier;
import io.handoff.hub.support.Fixtures;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.KafkaMarkedTest;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.response.Response;

/**
 * The bad-input corpus: malformed, truncated and mistyped payloads, missing fields, 64-bit ids, enormous and deeply
 * nested bodies, invalid UTF-8, Unicode and plus-addressed emails, injection strings, bad, missing and old signatures,
 * replays, and bad admin parameters. Each case is answered with its 4xx (or accepted where it is valid), never a 5xx;
 * a rejection writes nothing to Kafka and keeps no delivery id. The number of cases is printed.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class BadInputCorpusTest extends KafkaMarkedTest {

    static final List<String> RAN = new ArrayList<>();

    /** One case: what to send, the answers that are right, and how many records it may write. */
    record Case(String name, Supplier<Response> send, Set<Integer> expected, int writes) {
    }

    static String consent(String email, String timestamp) {
        return "{\"type\": \"consent.changed\", \"timestamp\": \"" + timestamp + "\", \"data\": {\"customer\": {\"email\": "
                + email + "}, \"channel\": \"email\", \"purpose\": \"marketing\", \"state\": \"unsubscribed\"}}";
    }

    static Supplier<Response> checkout(String body) {
        return checkout(body.getBytes(UTF_8));
    }

    static Supplier<Response> checkout(byte[] body) {
        return () -> Webhooks.postSigned("checkout", CHECKOUT_SECRET, Webhooks.newId(), body);
    }

    static Supplier<Response> admin(String path) {
        return () -> RestAssured.given().auth().oauth2(ADMIN_TOKEN).get(path);
    }

    static String now() {
        return Instant.now().toString();
    }

    List<Case> corpus() {
        String valid = consent("\"corpus@example.com\"", now());
        List<Case> cases = new ArrayList<>();
        // Malformed, truncated, empty, not an object.
        cases.add(new Case("malformed JSON", checkout("{\"type\": "), Set.of(400), 0));
        cases.add(new Case("truncated JSON", checkout(valid.substring(0, valid.length() / 2)), Set.of(400), 0));
        cases.add(new Case("empty body", checkout(new byte[0]), Set.of(400), 0));
        cases.add(new Case("a JSON array", checkout("[]"), Set.of(400), 0));
        cases.add(new Case("JSON null", checkout("null"), Set.of(400), 0));
        cases.add(new Case("trailing garbage", checkout(valid + " }}"), Set.of(400), 0));
        // Wrong types and missing fields.
        cases.add(new Case("timestamp as a number", checkout("{\"type\": \"consent.changed\", \"timestamp\": 1732000000,"
                + " \"data\": {\"customer\": {\"email\": \"corpus@example.com\"}, \"channel\": \"email\","
                + " \"state\": \"unsubscribed\"}}"), Set.of(400), 0));
        cases.add(new Case("email as a number", checkout(consent("42", now())), Set.of(400), 0));
        cases.add(new Case("data as a string", checkout("{\"type\": \"consent.changed\", \"timestamp\": \"" + now()
                + "\", \"data\": \"unsubscribe me\"}"), Set.of(400), 0));
        cases.add(new Case("no type", checkout("{\"timestamp\": \"" + now() + "\", \"data\": {}}"), Set.of(400), 0));
        cases.add(new Case("consent without state", checkout(valid.replace(", \"state\": \"unsubscribed\"", "")),
                Set.of(400), 0));
        cases.add(new Case("unknown state", checkout(valid.replace("unsubscribed", "maybe")), Set.of(400), 0));
        cases.add(new Case("timestamp without offset", checkout(consent("\"corpus@example.com\"",
                "2026-11-20T09:30:00")), Set.of(400), 0));
        cases.add(new Case("customer without email, phone or ids", checkout(valid.replace(
                "{\"email\": \"corpus@example.com\"}", "{}")), Set.of(400), 0));
        // 64-bit ids: strings are taken, numbers are not (they do not survive every JSON parser).
        cases.add(new Case("64-bit id as a string", checkout(valid.replace("{\"email\": \"corpus@example.com\"}",
                "{\"ids\": {\"shopify\": \"9223372036854775807\"}}")), Set.of(200), 1));
        cases.add(new Case("64-bit id as a number", checkout(valid.replace("{\"email\": \"corpus@example.com\"}",
                "{\"ids\": {\"shopify\": 9223372036854775807}}")), Set.of(400), 0));
        // Size and depth.
        cases.add(new Case("enormous body", checkout(("{\"type\": \"consent.changed\", \"pad\": \"" + "x".repeat(70_000)
                + "\"}")), Set.of(413), 0));
        cases.add(new Case("deep nesting", checkout("{\"type\": \"consent.changed\", \"timestamp\": \"" + now()
                + "\", \"data\": " + "[".repeat(5_000) + "]".repeat(5_000) + "}"), Set.of(400), 0));
        // Encoding.
        byte[] invalidUtf8 = valid.replace("corpus@example.com", "corpus-XX@example.com").getBytes(UTF_8);
        int at = new String(invalidUtf8, UTF_8).indexOf("XX");
        invalidUtf8[at] = (byte) 0xC3;
        invalidUtf8[at + 1] = (byte) 0x28;
        cases.add(new Case("invalid UTF-8", checkout(invalidUtf8), Set.of(400), 0));
        cases.add(new Case("Unicode email", checkout(consent("\"jörg.müller@bücher.example\"", now())), Set.of(200), 1));
        cases.add(new Case("plus-addressed email", checkout(consent("\"ann+promo@example.com\"", now())), Set.of(200),
                1));
        cases.add(new Case("SQL injection in the email (stored as data)", checkout(consent(
                "\"x';DROP-TABLE-customer;--@example.com\"", now())), Set.of(200), 1));
        cases.add(new Case("email with whitespace inside", checkout(consent("\"ann lee@example.com\"", now())),
                Set.of(400), 0));
        // Signatures and replays.
        cases.add(new Case("wrong secret", () -> Webhooks.postSigned("checkout",
                "whsec_d3Jvbmctc2VjcmV0LWZvci10aGUtY29ycHVz", Webhooks.newId(), valid.getBytes(UTF_8)), Set.of(401), 0));
        cases.add(new Case("no signature", () -> RestAssured.given().contentType("application/json")
                .header("webhook-id", Webhooks.newId()).header("webhook-timestamp", Long.toString(Instant.now()
                        .getEpochSecond())).body(valid).post("/webhooks/checkout"), Set.of(400, 401), 0));
        cases.add(new Case("signature over other bytes", () -> {
            String id = Webhooks.newId();
            long ts = Instant.now().getEpochSecond();
            return Webhooks.signedRequest(id, ts, StandardWebhookVerifier.sign(CHECKOUT_SECRET, id, ts,
                    valid.getBytes(UTF_8)), (valid + " ").getBytes(UTF_8)).post("/webhooks/checkout");
        }, Set.of(401), 0));
        cases.add(new Case("signature an hour old", () -> {
            String id = Webhooks.newId();
            long ts = Instant.now().getEpochSecond() - 3600;
            return Webhooks.signedRequest(id, ts, StandardWebhookVerifier.sign(CHECKOUT_SECRET, id, ts,
                    valid.getBytes(UTF_8)), valid.getBytes(UTF_8)).post("/webhooks/checkout");
        }, Set.of(401), 0));
        String replayed = Webhooks.newId();
        cases.add(new Case("first delivery", () -> Webhooks.postSigned("checkout", CHECKOUT_SECRET, replayed,
                valid.getBytes(UTF_8)), Set.of(200), 1));
        cases.add(new Case("the same delivery replayed", () -> Webhooks.postSigned("checkout", CHECKOUT_SECRET,
                replayed, valid.getBytes(UTF_8)), Set.of(200), 0));
        // A header cannot carry a raw line break (the HTTP layer refuses it); its percent-encoded text is just an opaque
        // id, taken as it is, never decoded into a header.
        cases.add(new Case("encoded CRLF in the webhook id is plain text", () -> {
            String id = "msg_" + System.nanoTime() + "%0d%0aX-Injected:%20yes";
            long ts = Instant.now().getEpochSecond();
            Response r = Webhooks.signedRequest(id, ts, StandardWebhookVerifier.sign(CHECKOUT_SECRET, id, ts,
                    valid.getBytes(UTF_8)), valid.getBytes(UTF_8)).post("/webhooks/checkout");
            assertEquals(id, r.jsonPath().getString("id"));
            assertTrue(r.getHeader("X-Injected") == null);
            return r;
        }, Set.of(200), 1));
        cases.add(new Case("unknown system", () -> Webhooks.postSigned("nope", CHECKOUT_SECRET, Webhooks.newId(),
                valid.getBytes(UTF_8)), Set.of(404), 0));
        // Shopify.
        byte[] sample = Fixtures.shopifyPayload("customers_email_marketing_consent-update.json");
        cases.add(new Case("Shopify with a bad HMAC", () -> Webhooks.postShopify(Webhooks.shopifyHeaders(
                "customers_email_marketing_consent/update", Webhooks.newId(), sample, "not-the-secret"), sample),
                Set.of(401), 0));
        cases.add(new Case("Shopify malformed JSON, correctly signed", () -> {
            byte[] bad = "{\"customer_id\": ".getBytes(UTF_8);
            return Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update",
                    Webhooks.newId(), bad, SHOPIFY_SECRET), bad);
        }, Set.of(400), 0));
        // Admin API parameters.
        cases.add(new Case("admin: not an email", admin("/api/customers/not-an-email/consent"), Set.of(400), 0));
        cases.add(new Case("admin: injection in the email", admin("/api/customers/x'%20OR%201=1--@example.com/consent"),
                Set.of(400, 404), 0));
        cases.add(new Case("admin: limit not a number", admin("/api/customers/ann@example.com/addresses?limit=abc"),
                Set.of(400), 0));
        cases.add(new Case("admin: no token", () -> RestAssured.given().get("/api/feeds"), Set.of(401), 0));
        cases.add(new Case("admin: reconciliation body not JSON", () -> RestAssured.given().auth().oauth2(ADMIN_TOKEN)
                .contentType("application/json").body("{systems: ").post("/api/reconciliations"), Set.of(400), 0));
        return cases;
    }

    @TestFactory
    Stream<DynamicTest> everyBadInputIsAClear4xxAndWritesNothing() {
        return corpus().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            int before = written().size();
            Response response = c.send().get();
            int status = response.statusCode();
            assertTrue(status < 500, c.name() + ": " + status + " " + response.asString());
            assertTrue(c.expected().contains(status), c.name() + ": expected " + c.expected() + ", got " + status + " "
                    + response.asString());
            if (status >= 400) {
                assertTrue(response.contentType().startsWith("application/json"), c.name() + ": JSON error body");
                assertTrue(response.asString().contains("\"error\""), c.name() + ": " + response.asString());
            }
            assertEquals(c.writes(), written().size() - before, c.name() + ": records written");
            RAN.add(c.name());
        }));
    }

    @AfterAll
    static void count() {
        System.out.println("bad-input corpus: " + RAN.size() + " cases answered as expected");
    }
}
