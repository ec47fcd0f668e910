package io.handoff.hub.support;

import static io.handoff.hub.support.HubTestResource.ADMIN_TOKEN;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import io.restassured.RestAssured;
import io.restassured.response.Response;

/** Reads the propagation receipts of a customer through the consent API, as an operator would. */
public final class Receipts {

    private Receipts() {
    }

    /** The customer's receipts (newest change first), or an empty list while the ledger does not know them yet. */
    public static List<Map<String, Object>> of(String email) {
        Response response = RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/customers/" + email + "/consent");
        return response.statusCode() == 200 ? response.jsonPath().getList("receipts") : List.of();
    }

    /** Waits until the customer's receipts satisfy {@code until}, and returns them. */
    public static List<Map<String, Object>> awaitUntil(String email, Duration atMost,
            Predicate<List<Map<String, Object>>> until) {
        return await().atMost(atMost).pollInterval(Duration.ofMillis(50)).until(() -> of(email), until);
    }

    /** The newest receipt of one system, or null. */
    public static Map<String, Object> latest(List<Map<String, Object>> receipts, String system) {
        return receipts.stream().filter(r -> system.equals(r.get("system"))).findFirst().orElse(null);
    }

    /** True when the newest receipt of each named system has the given status. */
    public static Predicate<List<Map<String, Object>>> status(String status, String... systems) {
        return receipts -> {
            for (String system : systems) {
                Map<String, Object> r = latest(receipts, system);
                if (r == null || !status.equals(r.get("status"))) {
                    return false;
                }
            }
            return true;
        };
    }
}
