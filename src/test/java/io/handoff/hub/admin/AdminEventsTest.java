package io.handoff.hub.admin;

import static io.handoff.hub.support.HubTestResource.ADMIN_TOKEN;
import static io.handoff.hub.support.HubTestResource.SHOPIFY_SECRET;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import java.util.UUID;

import org.junit.jupiter.api.Test;

import io.handoff.hub.support.Fixtures;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class AdminEventsTest {

    @Test
    void latestEventsOfATopicShowWhatAWebhookProduced() {
        byte[] body = Fixtures.shopifyPayload("orders-create.json");
        String webhookId = UUID.randomUUID().toString();
        Webhooks.postShopify(Webhooks.shopifyHeaders("orders/create", webhookId, body, SHOPIFY_SECRET), body)
                .then().statusCode(200);

        RestAssured.given().auth().oauth2(ADMIN_TOKEN)
                .queryParam("topic", "handoff.order").queryParam("limit", 5)
                .get("/api/events")
                .then().statusCode(200)
                .contentType("application/json")
                .body("topic", equalTo("handoff.order"))
                .body("events.size()", lessThanOrEqualTo(5))
                .body("events.event.id", hasItem(webhookId))
                .body("events.find { it.event.id == '" + webhookId + "' }.event.data.order.id",
                        equalTo("820982911946154508"));
    }

    @Test
    void missingOrWrongTokenIs401() {
        RestAssured.given().queryParam("topic", "handoff.order").get("/api/events")
                .then().statusCode(401).body("error.code", equalTo("unauthorized"));
        RestAssured.given().auth().oauth2("not-" + ADMIN_TOKEN).queryParam("topic", "handoff.order")
                .get("/api/events").then().statusCode(401);
    }

    @Test
    void unknownTopicOrBadLimitIs400() {
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("topic", "__consumer_offsets")
                .get("/api/events").then().statusCode(400).body("error.code", equalTo("unknown_topic"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("topic", "handoff.order")
                .queryParam("limit", 1000).get("/api/events")
                .then().statusCode(400).body("error.code", equalTo("invalid_limit"));
    }
}
