package io.handoff.hub;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;

import org.junit.jupiter.api.Test;

import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Management;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class HealthAndMetricsTest {

    @Test
    void readinessIncludesKafkaAndTheDatabase() {
        RestAssured.given().port(Management.port()).get("/q/health/ready")
                .then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.name", hasItems("kafka", "Database connections health check", "camel-routes"));
    }

    @Test
    void livenessIsUp() {
        RestAssured.given().port(Management.port()).get("/q/health/live")
                .then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void webhookCountersAreExportedPerSystemTopicAndOutcome() {
        RestAssured.given().contentType("application/json").body("{}").post("/webhooks/shopify")
                .then().statusCode(401);
        RestAssured.given().port(Management.port()).get("/q/metrics")
                .then().statusCode(200)
                .body(containsString("handoff_webhooks_total{outcome=\"invalid_signature\",system=\"shopify\",topic=\"unknown\"}"));
    }

    @Test
    void openApiDocumentsTheAdminApi() {
        String doc = RestAssured.given().port(Management.port()).queryParam("format", "json").get("/q/openapi")
                .then().statusCode(200).extract().asString();
        for (String path : new String[] { "/api/customers/{email}/consent", "/api/may-send", "/api/events",
                "/webhooks/shopify", "/webhooks/{system}" }) {
            org.junit.jupiter.api.Assertions.assertTrue(doc.contains("\"" + path + "\""), path + " in " + doc);
        }
    }
}
