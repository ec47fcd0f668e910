package io.handoff.hub.console;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static io.handoff.hub.support.HubTestResource.ADMIN_TOKEN;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Receipts;
import io.handoff.hub.support.SuppressionLists;
import io.handoff.hub.support.SuppressionLists.Listed;
import io.handoff.hub.support.VendorStubs;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

/**
 * The operator console in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}, no browser
 * download), against the running hub with stubbed vendors: logging in, a stale feed marked stale, a dry-run
 * reconciliation and its totals, a customer's receipt from each system, a failed delivery replayed and delivered.
 * Screenshots go to {@code target/console-screenshots/}. Without the browser the class is skipped, unless
 * {@code HUB_REQUIRE_BROWSER=true} (CI installs it and sets that).
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
@QuarkusTestResource(value = VendorStubs.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = ConsoleBrowserTest.ConsoleData.class, restrictToAnnotatedClass = true)
class ConsoleBrowserTest {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
    static final String ERP_SECRET = "whsec_ZXJwLWNvbnNvbGUtdGVzdC1zZWNyZXQ=";
    static final ObjectMapper JSON = new ObjectMapper();
    static WebDriver browser;

    /**
     * The ERP's webhook secret, a cadence longer than the tolerance so an old sync is stale, not silent, and the
     * silent-failure detector checking every second.
     */
    public static class ConsoleData implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            return Map.of("hub.systems.erp.webhook-secret", ERP_SECRET, "hub.feeds.erp-inventory.cadence", "PT3H",
                    "hub.feeds.check-interval", "1s");
        }

        @Override
        public void stop() {
        }
    }

    @BeforeAll
    static void startBrowser() throws IOException {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!present) {
            Assumptions.assumeTrue(Boolean.parseBoolean(System.getenv("HUB_REQUIRE_BROWSER")),
                    "no " + CHROMIUM + " and " + CHROMEDRIVER + " (apt-get install chromium chromium-driver)");
            throw new IllegalStateException("HUB_REQUIRE_BROWSER is set but " + CHROMIUM + " or " + CHROMEDRIVER
                    + " is missing");
        }
        Files.createDirectories(SCREENSHOTS);
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--window-size=1366,768",
                        "--user-data-dir=" + Files.createTempDirectory("console-chromium"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @BeforeEach
    void vendorsAnswer() {
        VendorStubs.defaults();
    }

    @Test
    void theConsoleAsksForTheAdminTokenAndKeepsItOutOfTheUrl() {
        browser.get(console());
        script("sessionStorage.clear()");
        browser.navigate().refresh();
        waitFor().until(ExpectedConditions.visibilityOfElementLocated(By.id("login-form")));
        assertFalse(browser.findElement(By.id("app")).isDisplayed(), "nothing shown before the login");

        signIn("not-the-token");
        WebElement error = waitFor().until(ExpectedConditions.visibilityOfElementLocated(By.id("login-error")));
        assertFalse(error.getText().isBlank(), "the API's refusal is shown");
        screenshot("01-login-refused");

        signIn(ADMIN_TOKEN);
        waitFor().until(ExpectedConditions.visibilityOfElementLocated(By.id("app")));
        assertEquals(ADMIN_TOKEN, script("return sessionStorage.getItem('handoffAdminToken')"));
        assertEquals(null, script("return localStorage.getItem('handoffAdminToken')"));
        assertFalse(browser.getCurrentUrl().contains(ADMIN_TOKEN), browser.getCurrentUrl());
        given().redirects().follow(false).get("/console").then().statusCode(301).header("Location", "/console/");
        given().get("/console/secrets.txt").then().statusCode(404).body("error.code", equalTo("not_found"));
        given().post("/console/").then().statusCode(405);
        for (String file : List.of("/console/", "/console/console.js")) {
            given().get(file).then().statusCode(200)
                    .header("Content-Security-Policy", containsString("script-src 'self'"))
                    .header("Content-Security-Policy", containsString("frame-ancestors 'none'"))
                    .header("X-Frame-Options", "DENY");
        }
        assertEquals(0L, script("return [...document.querySelectorAll('input, select')]"
                + ".filter(i => i.labels.length === 0).length"), "every input has a label");
        screenshot("02-signed-in");
    }

    @Test
    void aStaleFeedIsMarkedStale() {
        // A fresh install: the ERP has reported nothing, and its first run is not due yet (cadence 3 h + tolerance 1 h).
        openConsole();
        By status = By.cssSelector("#feeds-table tr[data-feed='erp-inventory'] td.status");
        waitFor().until(ExpectedConditions.textToBePresentInElementLocated(status, "pending"));
        assertTrue(browser.findElement(By.cssSelector("#feed-alerts")).getText().indexOf("erp-inventory") < 0,
                "no alert for a feed that is not due yet");
        // Then its run reports: the last successful run was two hours ago, its tolerance is one hour.
        // A mark on this page: still there after the change shows it refreshed itself, without a reload.
        script("window.consoleTestMark = 'not reloaded'");
        String payload = "{\"type\":\"feed.synced\",\"timestamp\":\"" + Instant.now().minus(Duration.ofHours(2))
                + "\",\"data\":{\"feed\":\"erp-inventory\",\"records\":12}}";
        Webhooks.postSigned("erp", ERP_SECRET, Webhooks.newId(), payload.getBytes(UTF_8)).then().statusCode(200);

        waitFor().until(ExpectedConditions.textToBePresentInElementLocated(status, "stale"));
        assertEquals("not reloaded", script("return window.consoleTestMark"), "auto-refresh, not a reload");
        WebElement cell = browser.findElement(status);
        assertEquals("stale", cell.getText().trim());
        assertTrue(cell.getAttribute("class").contains("status-stale"), cell.getAttribute("class"));
        // The detector raised the feed's stale alert, and it is open.
        waitFor().until(ExpectedConditions.textToBePresentInElementLocated(
                By.cssSelector("#feed-alerts [data-alert-feed='erp-inventory'] .badge"), "feed.stale"));
        screenshot("03-feed-stale");
    }

    @Test
    void aDryRunReconciliationShowsTheReportsTotals() throws IOException {
        // A customer the ledger holds unsubscribed whom Klaviyo's list leaves out: the plan sends Klaviyo the ledger's
        // state.
        String email = "drift.console@example.com";
        optOut(7103, email);
        Receipts.awaitUntil(email, Duration.ofSeconds(30), Receipts.status("delivered", "klaviyo"));
        Instant old = Instant.parse("2026-11-01T00:00:00Z");
        SuppressionLists.klaviyo(VendorStubs.klaviyo, List.of(new Listed("bounced.console@example.com", "01BOUNCED",
                "HARD_BOUNCE", old)));
        SuppressionLists.salesforce(VendorStubs.salesforce, List.of());
        SuppressionLists.hubspot(VendorStubs.hubspot, List.of());
        SuppressionLists.shopify(VendorStubs.shopify, List.of());
        SuppressionLists.loyalty(VendorStubs.loyalty, List.of());

        openConsole();
        browser.findElement(By.id("tab-drift")).click();
        browser.findElement(By.id("drift-dry-run")).click();
        waitFor().until(ExpectedConditions.attributeToBe(By.id("drift-run"), "data-status", "completed"));
        // Hold the page still while it is read (the feeds test covers the refresh).
        browser.findElement(By.id("auto-refresh")).click();
        String runId = browser.findElement(By.id("drift-run")).getAttribute("data-run-id");
        JsonNode report = JSON.readTree(given().auth().oauth2(ADMIN_TOKEN).get("/api/reconciliations/" + runId)
                .then().statusCode(200).extract().asString());
        JsonNode klaviyo = null;
        for (JsonNode system : report.path("systems")) {
            if (system.path("system").asText().equals("klaviyo")) {
                klaviyo = system;
            }
        }
        assertTrue(klaviyo != null && klaviyo.path("totals").path("systemSuppressed").asLong() >= 1, report.toString());
        WebElement block = browser.findElement(By.cssSelector("#drift-systems [data-system='klaviyo']"));
        List<WebElement> totals = block.findElements(By.cssSelector("[data-total]"));
        assertFalse(totals.isEmpty(), block.getText());
        for (WebElement total : totals) {
            long shown = Long.parseLong(total.getText().replaceAll("[^0-9]", ""));
            assertEquals(klaviyo.path("totals").path(total.getAttribute("data-total")).asLong(), shown,
                    total.getAttribute("data-total") + " as the report has it");
        }
        screenshot("04-drift-dry-run");

        // Applying asks first, with the plan's size: every planned action of the report but "none".
        long planned = 0;
        for (JsonNode system : report.path("systems")) {
            for (var action : (Iterable<Map.Entry<String, JsonNode>>) system.path("plan")::fields) {
                planned += action.getKey().equals("none") ? 0 : action.getValue().path("planned").asLong();
            }
        }
        assertTrue(planned > 0, report.toString());
        browser.findElement(By.id("drift-apply")).click();
        waitFor().until(ExpectedConditions.visibilityOfElementLocated(By.id("apply-confirm")));
        assertEquals(Long.toString(planned), browser.findElement(By.id("apply-plan-size")).getText().trim());
        screenshot("05-drift-apply-confirmation");
        browser.findElement(By.id("apply-confirm-no")).click();
        waitFor().until(ExpectedConditions.invisibilityOfElementLocated(By.id("apply-confirm")));
        assertTrue(JSON.readTree(given().auth().oauth2(ADMIN_TOKEN).get("/api/reconciliations/" + runId).asString())
                .path("appliedAt").isNull(), "cancelled: nothing applied");
    }

    @Test
    void aCustomersReceiptsShowEachSystemsStatus() {
        String email = "console.customer@example.com";
        optOut(7101, email);
        List<String> systems = List.of("klaviyo", "salesforce", "hubspot", "loyalty", "shopify");
        List<Map<String, Object>> receipts = Receipts.awaitUntil(email, Duration.ofSeconds(30), all -> systems.stream()
                .allMatch(system -> Receipts.latest(all, system) != null && List.of("delivered", "skipped", "failed")
                        .contains(Receipts.latest(all, system).get("status"))));
        assertTrue(Receipts.status("delivered", "klaviyo", "hubspot", "loyalty").test(receipts), receipts.toString());

        openConsole();
        browser.findElement(By.id("tab-customer")).click();
        WebElement input = browser.findElement(By.id("customer-email"));
        input.clear();
        input.sendKeys(email);
        browser.findElement(By.id("customer-search")).click();
        waitFor().until(ExpectedConditions.visibilityOfElementLocated(By.id("receipts-table")));
        for (String system : systems) {
            Map<String, Object> latest = Receipts.latest(receipts, system);
            By cell = By.cssSelector("#receipts-table tr.latest-for-system[data-system='" + system
                    + "'] td.receipt-status");
            waitFor().until(ExpectedConditions.textToBePresentInElementLocated(cell, (String) latest.get("status")));
        }
        String consent = browser.findElement(By.id("consent-table")).getText();
        assertTrue(consent.contains("email") && consent.contains("unsubscribed"), consent);
        screenshot("06-customer-receipts");
    }

    @Test
    void aFailedDeliveryIsReplayedAndDelivered() throws IOException {
        String email = "replay.console@example.com";
        // The loyalty platform refuses this customer's change (422: not retried, the delivery fails).
        VendorStubs.loyalty.stubFor(post(urlPathEqualTo("/api/v1/consent-events")).atPriority(1)
                .withRequestBody(containing(email)).willReturn(aResponse().withStatus(422)
                        .withHeader("Content-Type", "application/json").withBody("{\"error\":\"member locked\"}")));
        optOut(7102, email);
        Receipts.awaitUntil(email, Duration.ofSeconds(30), Receipts.status("failed", "loyalty"));
        long id = 0;
        for (JsonNode d : JSON.readTree(given().auth().oauth2(ADMIN_TOKEN)
                .get("/api/deliveries?status=failed&system=loyalty&limit=100").then().statusCode(200).extract()
                .asString()).path("deliveries")) {
            if (d.path("email").asText().equals(email)) {
                id = d.path("id").asLong();
            }
        }
        assertTrue(id > 0, "the failed delivery is listed");

        openConsole();
        browser.findElement(By.id("tab-deliveries")).click();
        By row = By.cssSelector("#deliveries-table tr[data-delivery-id='" + id + "']");
        waitFor().until(ExpectedConditions.textToBePresentInElementLocated(
                By.cssSelector("#deliveries-table tr[data-delivery-id='" + id + "'] td.delivery-status"), "failed"));
        waitFor().until(ExpectedConditions.textToBePresentInElementLocated(
                By.cssSelector("#deliveries-table tr[data-delivery-id='" + id + "'] td.vendor-answer"), "422"));
        screenshot("07-delivery-failed");

        // The platform accepts it now; replay it from the page (found again: the page may have re-rendered meanwhile).
        VendorStubs.defaults();
        waitFor().ignoring(StaleElementReferenceException.class).until(d -> {
            d.findElement(row).findElement(By.cssSelector("button.replay")).click();
            return true;
        });
        waitFor().until(ExpectedConditions.textToBePresentInElementLocated(
                By.cssSelector("#deliveries-table tr[data-delivery-id='" + id + "'] td.delivery-status"), "delivered"));
        Receipts.awaitUntil(email, Duration.ofSeconds(10), Receipts.status("delivered", "loyalty"));
        screenshot("08-delivery-replayed");
    }

    private void openConsole() {
        browser.get(console());
        if (!browser.findElement(By.id("app")).isDisplayed()) {
            signIn(ADMIN_TOKEN);
        }
        waitFor().until(ExpectedConditions.visibilityOfElementLocated(By.id("app")));
    }

    private static void signIn(String token) {
        WebElement field = browser.findElement(By.id("token"));
        field.clear();
        field.sendKeys(token);
        browser.findElement(By.id("login-button")).click();
    }

    private static void optOut(long customerId, String email) {
        byte[] body = Webhooks.shopifyConsent(customerId, email, "unsubscribed", Instant.now());
        Webhooks.postShopify(Webhooks.shopifyHeaders(Webhooks.SHOPIFY_CONSENT_TOPIC, Webhooks.newId(), body,
                HubTestResource.SHOPIFY_SECRET), body).then().statusCode(200);
    }

    private static Object script(String javascript) {
        return ((JavascriptExecutor) browser).executeScript(javascript);
    }

    private static WebDriverWait waitFor() {
        return new WebDriverWait(browser, Duration.ofSeconds(30));
    }

    private static String console() {
        return "http://localhost:" + RestAssured.port + "/console/";
    }

    private static void screenshot(String name) {
        try {
            Files.move(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(),
                    SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
