package com.modelmarket.marketplace.ui;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.freePlan;
import static com.modelmarket.marketplace.support.Publishing.plan;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

/**
 * The web UI end to end in headless Chromium against the real platform: a consumer's journey from
 * sign-up to a prediction, a publisher's upload (accepted and refused), and a rollback.
 */
@StartedPlatform
@DisplayName("Web UI in a real browser")
@Tag("slow")
class WebUiJourneyTest {

    private static final String PUBLISHER_EMAIL = "owner@pixel.test";
    private static final String PUBLISHER_PASSWORD = "publisher-password";
    private static final String CARD = String.join("\n",
            "# Handwritten Digits",
            "",
            "A small **multi-layer perceptron** that reads 8×8 grey-scale digits (the UCI set).",
            "",
            "| metric | value |",
            "|---|---:|",
            "| accuracy | 0.97 |",
            "",
            "- input: 64 pixel intensities in `[0, 1]`",
            "- output: probabilities of the ten digits",
            "",
            "See [the dataset](https://archive.ics.uci.edu/dataset/80).");

    private static Platform platform;
    private static Api api;
    private static Browser browser;
    private static String publisher;

    @BeforeAll
    static void start(Platform started, Api client) throws IOException {
        Browser.assumeInstalled();
        platform = started;
        api = client;
        publisher = accessToken(api.signUp("Pixel Labs", PUBLISHER_EMAIL, PUBLISHER_PASSWORD));
        createModel(api, publisher, "handwritten-digits", "public", new JsonObject().put("name", "Handwritten Digits")
                .put("summary", "Recognises handwritten digits in 8×8 images").put("description", CARD)
                .put("tags", new JsonArray().add("digits").add("vision")).put("license", "MIT")
                .put("claimedMetrics", new JsonObject().put("accuracy", 0.97)));
        publishVersion(api, publisher, "handwritten-digits", "1.0.0", "digits_mlp");
        freePlan(api, publisher, "handwritten-digits");
        plan(api, publisher, "handwritten-digits", new JsonObject().put("name", "Pay as you go").put("type", "pay_as_you_go")
                .put("currency", "EUR").put("pricePer1000Minor", 50).put("rateLimitPerMinute", 600));
        createModel(api, publisher, "diabetes-progression", "public", new JsonObject().put("name", "Diabetes Progression")
                .put("summary", "Predicts disease progression one year ahead from ten baseline measurements")
                .put("task", "regression").put("tags", new JsonArray().add("tabular").add("health")));
        publishVersion(api, publisher, "diabetes-progression", "1.0.0", "diabetes_regressor");
        plan(api, publisher, "diabetes-progression", new JsonObject().put("name", "Pro").put("type", "monthly")
                .put("currency", "USD").put("monthlyFeeMinor", 4900).put("includedCalls", 100_000)
                .put("pricePer1000Minor", 30).put("rateLimitPerMinute", 6000));
        createModel(api, publisher, "logistic-regression", "public", new JsonObject().put("kind", "algorithm")
                .put("name", "Logistic Regression").put("task", "tabular-classification")
                .put("summary", "Learns a linear classifier from your labelled rows")
                .put("algorithm", new JsonObject(java.nio.file.Files.readString(
                        java.nio.file.Path.of("..", "serving", "fixtures", "recipes", "logistic_regression.json")))));
        browser = Browser.start(platform.port());
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
    }

    @BeforeEach
    void signedOut() {
        browser.forgetSession();
    }

    @Test
    @DisplayName("a consumer signs up, searches, subscribes, creates a key, gets a prediction in the playground, then changes plan and cancels")
    void consumerJourney() {
        browser.open("/signup");
        browser.type(By.id("signup-organisation"), "Consumer Co");
        browser.type(By.id("signup-name"), "Casey");
        browser.type(By.id("signup-email"), "casey@consumer.test");
        browser.type(By.id("signup-password"), "consumer-password");
        browser.click(By.id("signup-submit"));
        browser.awaitText(By.id("who"), "casey@consumer.test");

        // A reload keeps the session through the HttpOnly refresh cookie; no secret is in storage or readable cookies.
        browser.open("/");
        browser.awaitText(By.id("who"), "Consumer Co");
        assertEquals(0L, browser.js("return localStorage.length + sessionStorage.length;"));
        assertFalse(String.valueOf(browser.js("return document.cookie;")).contains("mm_refresh"));

        browser.awaitText(By.cssSelector("li[data-slug='diabetes-progression'] .price"), "$49.00 per month");
        browser.awaitText(By.cssSelector("li[data-slug='handwritten-digits'] .price"), "Free: 1,000 calls per month");
        browser.screenshot("catalog");

        browser.type(By.id("search-q"), "handwritten");
        browser.click(By.id("search-submit"));
        browser.awaitRendered("/?q=handwritten");
        assertEquals(1, browser.all(By.cssSelector("#catalog-cards li.card")).size(), "one model matches");
        String card = browser.awaitText(By.cssSelector("li[data-slug='handwritten-digits']"), "Pixel Labs");
        assertTrue(card.contains("v1.0.0") && card.contains("Image classification"), card);

        browser.click(By.cssSelector("li[data-slug='handwritten-digits'] a.card-link"));
        browser.awaitText(By.tagName("h1"), "Handwritten Digits");
        browser.awaitText(By.cssSelector(".model-head"), "Published by Pixel Labs");
        assertEquals("Handwritten Digits", browser.text(By.cssSelector("#model-description h3")), "Markdown heading");
        assertEquals("multi-layer perceptron", browser.text(By.cssSelector("#model-description strong")));
        assertEquals("0.97", browser.text(By.cssSelector("#model-description td.align-right")));
        browser.awaitText(By.id("model-schema"), "pixels");
        browser.awaitText(By.id("versions"), "published");
        String curl = browser.text(By.cssSelector(".snippet[data-language='curl'] code"));
        assertTrue(curl.contains(browser.base() + "/v2/models/handwritten-digits/infer") && curl.contains("$MM_API_KEY"), curl);
        assertTrue(browser.text(By.cssSelector(".snippet[data-language='python'] code")).contains("requests.post("));
        assertTrue(browser.text(By.cssSelector(".snippet[data-language='javascript'] code")).contains("await fetch("));

        browser.click(By.cssSelector("button.subscribe[data-plan='Free']"));
        String confirmation = browser.confirmDialog();
        assertTrue(confirmation.contains("Free: 1,000 calls per month"), "the confirmation shows the price: " + confirmation);
        browser.awaitText(By.id("subscription-status"), "subscribed on the Free plan");

        browser.click(By.linkText("API keys"));
        browser.awaitText(By.tagName("h1"), "API keys");
        browser.type(By.id("key-name"), "playground");
        browser.click(By.id("key-create"));
        String secret = browser.find(By.id("new-key-secret")).getAttribute("value");
        assertTrue(secret.startsWith("mmk_"), secret);
        browser.awaitText(By.id("new-key"), "shown only this once");
        browser.click(By.cssSelector("#new-key button.copy"));
        browser.waiting().until(d -> !browser.text(By.cssSelector("#new-key .copy-status")).isEmpty());
        browser.awaitText(By.id("key-list"), "…" + secret.substring(secret.length() - 4));
        browser.js("window.scrollTo(0, 0);");
        browser.screenshot("api-keys");

        browser.go("/models/handwritten-digits");
        browser.type(By.id("pg-key"), secret);
        browser.click(By.id("pg-run"));
        browser.awaitText(By.id("pg-model-version"), "1.0.0");
        assertEquals("1", browser.text(By.cssSelector(".pg-item[data-item='0'] .prediction")), "first example is a 1");
        assertEquals("4", browser.text(By.cssSelector(".pg-item[data-item='1'] .prediction")), "second example is a 4");
        String facts = browser.text(By.id("pg-facts"));
        assertTrue(facts.contains("Batch size") && facts.contains("Queue time") && facts.contains("Cold start"), facts);
        browser.scrollTo(By.id("pg-version"));
        browser.screenshot("model-playground");
        browser.js("window.scrollTo(0, 0);");
        browser.screenshot("model-page");

        browser.go("/usage");
        if (usageApiExists()) {
            // metering writes in batches (about a second later): look again until the call shows
            await("the usage page shows the call").atMost(Duration.ofSeconds(10)).pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(500)).conditionEvaluationListener(c -> {
                        if (!c.isSatisfied()) {
                            browser.open("/usage");
                        }
                    }).untilAsserted(() -> assertTrue(browser.text(By.id("usage-total")).startsWith("1 call "),
                            () -> browser.bodyText() + "\nAPI says: " + api.get("/api/v1/usage/summary",
                                    accessToken(api.login("casey@consumer.test", "consumer-password"))).bodyAsString()));
            browser.find(By.cssSelector("figure.chart svg rect"));
            browser.scrollTo(By.xpath("//h2[text()='This month']"));
            browser.screenshot("usage");
            browser.click(By.id("usage-csv"));
            browser.waiting().withMessage("the usage CSV download").until(d -> downloaded("usage-").contains("handwritten-digits"));
        } else {
            browser.find(By.id("usage-unavailable"));
        }
        browser.go("/invoices");
        if (apiExists("/api/v1/invoices")) {
            String draft = browser.awaitText(By.cssSelector("details.invoice[data-number='draft']"), "This month so far");
            assertTrue(draft.contains("€0.00"), "a free plan costs nothing: " + draft);
            browser.screenshot("invoices");
        } else {
            browser.find(By.id("invoices-unavailable"));
        }
        browser.go("/org");
        browser.awaitText(By.id("member-list"), "casey@consumer.test");

        browser.go("/models/handwritten-digits");
        browser.click(By.cssSelector("button.change-plan[data-plan='Pay as you go']"));
        confirmation = browser.confirmDialog();
        assertTrue(confirmation.contains("€0.50 per 1,000 calls"), "the new price: " + confirmation);
        browser.awaitText(By.id("subscription-status"), "Pay as you go");
        browser.click(By.id("cancel-subscription"));
        confirmation = browser.confirmDialog();
        assertTrue(confirmation.contains("€0.50 per 1,000 calls"), "the price being cancelled: " + confirmation);
        browser.awaitText(By.id("subscription-status"), "no subscription");

        // Revoking a key, by keyboard only: Escape cancels the confirmation, Enter confirms it.
        browser.go("/keys");
        WebElement revoke = browser.find(By.cssSelector("button.revoke[data-key='playground']"));
        browser.js("arguments[0].focus();", revoke);
        revoke.sendKeys(Keys.ENTER);
        String dialog = browser.find(By.cssSelector("dialog[open]")).getText();
        assertTrue(dialog.contains("Revoke the key"), dialog);
        assertEquals("dialog-confirm", browser.js("return document.activeElement.id;"), "focus moves into the dialog");
        browser.driver().switchTo().activeElement().sendKeys(Keys.ESCAPE);
        browser.waiting().until(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("dialog[open]")));
        assertEquals("playground", browser.js("return document.activeElement.dataset.key;"), "focus returns to the button");
        browser.driver().switchTo().activeElement().sendKeys(Keys.ENTER);
        browser.find(By.cssSelector("dialog[open]"));
        browser.driver().switchTo().activeElement().sendKeys(Keys.ENTER);
        browser.awaitText(By.id("key-list"), "revoked");

        browser.click(By.id("logout"));
        browser.find(By.linkText("Sign in"));
        browser.open("/keys");
        browser.find(By.id("sign-in-first"));
    }

    @Test
    @DisplayName("a publisher creates a model, uploads a version with progress, sees it validated, publishes it and finds it in the catalog; a refused upload shows its reason")
    void publisherUploadsValidatesPublishes() throws IOException {
        api.signUp("Scribble Works", "owner@scribble.test", "scribble-password");
        logIn("owner@scribble.test", "scribble-password", "/publisher");
        browser.awaitText(By.tagName("h1"), "Publisher console");
        browser.type(By.id("card-slug"), "scribble-digits");
        browser.type(By.id("card-name"), "Scribble Digits");
        browser.type(By.id("card-summary"), "Digit recogniser for scanned forms");
        browser.paste(By.id("card-description"), "# Scribble\n\nA **small** MLP for form scans.");
        browser.awaitText(By.id("card-preview"), "small");
        browser.type(By.id("card-tags"), "digits, forms");
        browser.click(By.id("create-model"));
        browser.awaitText(By.tagName("h1"), "Manage Scribble Digits");

        browser.type(By.id("upload-version"), "1.0.0");
        chooseFiles("digits_mlp.pt", "digits_mlp");
        browser.click(By.id("upload-submit"));
        browser.awaitText(By.id("validation-result"), "Validated: version 1.0.0 is a draft");
        assertEquals("100", browser.find(By.id("upload-progress")).getAttribute("value"), "the progress bar ends full");
        browser.awaitText(By.id("upload-status"), "Uploaded 100%");
        assertTrue(browser.text(By.id("validation-result")).contains("Single-item latency"));
        browser.click(By.id("publish-uploaded"));
        browser.awaitText(By.id("validation-result"), "Version 1.0.0 is published");
        browser.awaitText(By.id("version-manager"), "published");

        browser.type(By.id("upload-version"), "1.0.1");
        chooseFiles("digits_mlp.pt", "digits_mlp_bad_schema");
        browser.click(By.id("upload-submit"));
        browser.awaitText(By.id("upload-refusal"), "Model rejected");
        assertEquals("schema", browser.text(By.id("refusal-check")));
        assertFalse(browser.text(By.id("refusal-reason")).isBlank());
        browser.awaitText(By.id("upload-status"), "refused");
        browser.scrollTo(By.id("upload-version"));
        browser.screenshot("publisher-upload-refused");

        browser.type(By.id("plan-name"), "Starter");
        new Select(browser.find(By.id("plan-type"))).selectByValue("pay_as_you_go");
        browser.type(By.id("plan-price"), "0.50");
        browser.click(By.id("plan-create"));
        browser.awaitText(By.id("plan-manager"), "€0.50 per 1,000 calls");

        browser.type(By.id("card-summary"), "Digit recogniser for scanned paper forms");
        browser.click(By.id("save-card"));
        browser.awaitText(By.cssSelector("#card-editor .alert.ok"), "The model card is saved");

        browser.go("/?q=scribble");
        String card = browser.awaitText(By.cssSelector("li[data-slug='scribble-digits']"), "Starter: €0.50 per 1,000 calls");
        assertTrue(card.contains("Scribble Works") && card.contains("v1.0.0"), card);

        browser.go("/audit");
        String audit = browser.awaitText(By.id("audit-table"), "version.publish");
        assertTrue(audit.contains("plan.create") && audit.contains("owner@scribble.test"), audit);
    }

    @Test
    @DisplayName("moving latest back with one click changes what the playground's latest answers")
    void rollbackChangesWhatLatestAnswers() {
        createModel(api, publisher, "rollback-digits", "public", new JsonObject().put("name", "Rollback Digits"));
        publishVersion(api, publisher, "rollback-digits", "1.0.0", "digits_mlp");
        // 1.1.0: the same network with words for labels, so the answer differs visibly
        JsonObject manifest = Publishing.manifest("digits_mlp");
        manifest.getJsonArray("outputs").getJsonObject(0).put("labels", new JsonArray(List.of(
                "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")));
        String sha = Publishing.upload(api, publisher, Publishing.fixtureBytes("digits_mlp.pt"));
        HttpResponse<Buffer> created = api.post("/api/v1/models/rollback-digits/versions", publisher,
                new JsonObject().put("version", "1.1.0").put("artifactSha256", sha).put("manifest", manifest));
        assertEquals(201, created.statusCode(), created.bodyAsString());
        assertEquals(200, api.post("/api/v1/models/rollback-digits/versions/1.1.0/publish", publisher, null).statusCode());
        String key = api.post("/api/v1/api-keys", publisher, new JsonObject().put("name", "rollback")).bodyAsJsonObject().getString("secret");

        logIn(PUBLISHER_EMAIL, PUBLISHER_PASSWORD, "/models/rollback-digits");
        browser.awaitText(By.tagName("h1"), "Rollback Digits");
        assertEquals("latest", browser.find(By.id("pg-version")).getAttribute("value"));
        browser.type(By.id("pg-key"), key);
        browser.click(By.id("pg-run"));
        browser.awaitText(By.id("pg-model-version"), "1.1.0");
        assertEquals("one", browser.text(By.cssSelector(".pg-item[data-item='0'] .prediction")));

        browser.go("/publisher");
        browser.find(By.cssSelector("#earnings"));
        assertTrue(browser.all(By.cssSelector("#earnings .alert.error")).isEmpty(), browser.bodyText());
        browser.go("/models/rollback-digits");
        browser.click(By.id("manage-link"));
        browser.awaitText(By.tagName("h1"), "Manage Rollback Digits");
        browser.find(By.cssSelector("button.rollback[data-version='1.0.0']"));
        browser.screenshot("publisher-console");
        browser.click(By.cssSelector("button.rollback[data-version='1.0.0']"));
        browser.awaitText(By.id("flash"), "Rolled back: latest now answers with 1.0.0");

        browser.click(By.id("public-page-link"));
        browser.awaitText(By.id("latest-version"), "1.0.0");
        assertEquals(key, browser.find(By.id("pg-key")).getAttribute("value"), "the key stays in the tab's memory");
        browser.click(By.id("pg-run"));
        browser.awaitText(By.id("pg-model-version"), "1.0.0");
        assertEquals("1", browser.text(By.cssSelector(".pg-item[data-item='0'] .prediction")));
        assertEquals(0L, browser.js("return localStorage.length + sessionStorage.length;"));

        // the version rolled away from goes through its lifecycle: deprecated, then retired (after a confirmation)
        browser.click(By.id("manage-link"));
        browser.click(By.cssSelector("button.deprecate[data-version='1.1.0']"));
        browser.awaitText(By.id("flash"), "Version 1.1.0 is deprecated");
        browser.click(By.cssSelector("button.retire[data-version='1.1.0']"));
        assertTrue(browser.confirmDialog().contains("stops serving"));
        browser.awaitText(By.id("flash"), "Version 1.1.0 is retired");
        browser.awaitText(By.id("version-manager"), "retired"); // the flash shows before the table is drawn again
    }

    @Test
    @DisplayName("errors from the API are shown to the person in words, naming the field concerned")
    void apiErrorsInWords() {
        browser.open("/signup");
        browser.type(By.id("signup-organisation"), "Copycat");
        browser.type(By.id("signup-email"), PUBLISHER_EMAIL);
        browser.type(By.id("signup-password"), "another-password");
        browser.click(By.id("signup-submit"));
        browser.awaitText(By.cssSelector("#signup-form .alert.error"), "An account with this e-mail address already exists");

        logIn(PUBLISHER_EMAIL, PUBLISHER_PASSWORD, "/keys");
        browser.awaitText(By.tagName("h1"), "API keys");
        browser.type(By.id("key-name"), "no scopes");
        browser.click(By.id("key-scope-inference"));
        browser.click(By.id("key-create"));
        String error = browser.awaitText(By.cssSelector("main .alert.error"), "scopes");
        assertFalse(error.isBlank(), error);
    }

    @Test
    @DisplayName("pages fit a phone-width screen and every form control has a label")
    void phoneWidthAndLabels() {
        try {
            browser.driver().manage().window().setSize(new Dimension(390, 844));
            for (String route : List.of("/signup", "/login", "/algorithms/logistic-regression", "/models/handwritten-digits", "/")) {
                checkPhonePage(route);
            }
            browser.awaitText(By.cssSelector("li[data-slug='handwritten-digits'] .price"), "Free");
            browser.screenshot("catalog-phone");
            logIn(PUBLISHER_EMAIL, PUBLISHER_PASSWORD, "/");
            for (String route : List.of("/keys", "/subscriptions", "/usage", "/invoices", "/org", "/audit", "/publisher",
                    "/publisher/models/handwritten-digits", "/models/handwritten-digits")) {
                checkPhonePage(route);
            }
        } finally {
            browser.driver().manage().window().setSize(new Dimension(1200, 800));
        }
    }

    /** The page neither scrolls sideways at 390 px nor has a form control without a label. */
    private static void checkPhonePage(String route) {
        browser.open(route);
        browser.find(By.tagName("h1"));
        assertEquals(Boolean.TRUE, browser.js("return document.documentElement.scrollWidth <= window.innerWidth;"),
                route + " scrolls sideways on a phone");
        Object unlabelled = browser.js("return [...document.querySelectorAll('input, select, textarea')]"
                + ".filter(c => c.type !== 'hidden' && c.labels.length === 0 && !c.getAttribute('aria-label')"
                + " && !c.getAttribute('aria-labelledby')).map(c => c.id || c.name || c.outerHTML.slice(0, 80));");
        assertEquals(List.of(), unlabelled, route + ": controls without a label");
    }

    private static void logIn(String email, String password, String next) {
        browser.open("/login?next=" + next);
        browser.type(By.id("login-email"), email);
        browser.type(By.id("login-password"), password);
        browser.click(By.id("login-submit"));
        browser.awaitText(By.id("who"), email);
        browser.awaitRendered(next);
    }

    /** Picks the model file and a manifest file (the fixture's manifest without its test-only fields). */
    private static void chooseFiles(String artifact, String manifestFixture) throws IOException {
        Path manifest = Files.createTempFile("manifest-", ".json");
        Files.writeString(manifest, Publishing.manifest(manifestFixture).encodePrettily());
        browser.find(By.id("upload-file")).sendKeys(Publishing.FIXTURES.resolve(artifact).toAbsolutePath().normalize().toString());
        browser.js("document.getElementById('upload-manifest').value = '';");
        browser.driver().findElement(By.id("upload-manifest-file")).sendKeys(manifest.toAbsolutePath().toString());
        browser.waiting().until(d -> String.valueOf(browser.js("return document.getElementById('upload-manifest').value;"))
                .contains(Publishing.manifest(manifestFixture).getString("name")));
    }

    /** The text of the downloaded file whose name starts with the prefix, or "" while there is none. */
    private static String downloaded(String prefix) {
        try (java.util.stream.Stream<Path> files = Files.list(browser.downloads())) {
            Path file = files.filter(p -> p.getFileName().toString().startsWith(prefix) && p.toString().endsWith(".csv"))
                    .findFirst().orElse(null);
            return file == null ? "" : Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    /** The usage API is being built separately: until it answers, the dashboard shows an empty state instead. */
    private static boolean usageApiExists() {
        String today = LocalDate.now(ZoneOffset.UTC).toString();
        return apiExists("/api/v1/usage/summary?from=" + today + "&to=" + today);
    }

    /** An API route that exists answers 401 without credentials; one that does not, 404. */
    private static boolean apiExists(String path) {
        return api.get(path, null).statusCode() != 404;
    }
}
