package com.modelmarket.marketplace.ui;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.freePlan;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

/**
 * Evaluation in the web UI, in headless Chromium against the real platform: a subscriber of the
 * digits model uploads the held-out digits as a CSV, compares two versions on it, follows the job
 * and reads the confusion matrix (every row counted once), the batches it ran in and the rows where
 * the versions disagree; the model page shows the publisher's reference measurement apart from its
 * claims. Screenshots go to docs/screenshots by way of target/ui-screenshots.
 */
@StartedPlatform
@DisplayName("Evaluation in a real browser")
@Tag("slow")
class EvaluationJourneyTest {

    private static final Path FIXTURES = Path.of("src", "test", "resources", "evaluation");
    private static final String EMAIL = "owner@eval-ui.test";
    private static final String PASSWORD = "eval-ui-password";

    private static Api api;
    private static Browser browser;
    private static String expectedAccuracy;

    @BeforeAll
    static void start(Platform platform, Api client) throws Exception {
        Browser.assumeInstalled();
        api = client;
        String publisher = accessToken(api.signUp("Digit Works", "owner@digit-ui.test", "publisher-password"));
        createModel(api, publisher, "digits", "public", new JsonObject().put("name", "Handwritten digits")
                .put("claimedMetrics", new JsonObject().put("accuracy", 0.99)));
        publishVersion(api, publisher, "digits", "1.0.0", "digits_mlp");
        publishVersion(api, publisher, "digits", "1.1.0", "digits_cnn");
        String plan = freePlan(api, publisher, "digits").getString("id");
        String consumer = accessToken(api.signUp("Eval UI Co", EMAIL, PASSWORD));
        assertEquals(201, api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", "digits").put("planId", plan))
                .statusCode());
        double accuracy = new JsonObject(Files.readString(FIXTURES.resolve("digits_eval_expected.json"))).getDouble("accuracy");
        expectedAccuracy = String.format(java.util.Locale.ROOT, "%.1f%%", accuracy * 100);
        browser = Browser.start(platform.port());
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
    }

    @Test
    @DisplayName("a subscriber uploads labelled digits, compares two versions, and reads the confusion matrix and the disagreements")
    void compareOnHeldOutDigits() {
        browser.logIn(EMAIL, PASSWORD, "/evaluations");
        browser.go("/evaluations?model=digits"); // the evaluate link of a model page leads here
        browser.awaitText(By.tagName("h1"), "Evaluations");
        browser.find(By.id("eval-csv")).sendKeys(FIXTURES.resolve("digits_eval.csv").toAbsolutePath().toString());
        browser.type(By.id("eval-csv-name"), "held-out digits");
        browser.type(By.id("eval-csv-label"), "digit");
        browser.click(By.cssSelector("#eval-upload-form button[type='submit']"));
        browser.waiting().withMessage("the new dataset can be chosen").until(ExpectedConditions.textToBePresentInElementLocated(
                By.id("eval-dataset"), "held-out digits (450 rows"));
        new Select(browser.find(By.id("eval-dataset"))).selectByIndex(0);
        assertEquals("digits", browser.find(By.id("eval-model")).getAttribute("value"));
        browser.type(By.id("eval-version"), "1.0.0");
        browser.type(By.id("eval-compare"), "1.1.0");
        browser.click(By.id("start-evaluation"));

        browser.waiting().withTimeout(Duration.ofMinutes(3)).withMessage("the evaluation succeeds").until(d -> "succeeded".equals(
                browser.js("const e = document.getElementById('evaluation-state'); return e && e.dataset.state;")));
        assertEquals(expectedAccuracy, browser.text(By.cssSelector("dl[data-version='1.0.0'] dd[data-metric='accuracy']")),
                "the accuracy PyTorch computes for these rows");
        List<WebElement> cells = browser.all(By.cssSelector("#confusion-1\\.0\\.0 td.heat"));
        assertEquals(100, cells.size(), "ten classes by ten");
        long sum = cells.stream().mapToLong(c -> Long.parseLong(c.getText().replace(",", ""))).sum();
        assertEquals(450, sum, "the confusion matrix counts every row once");
        assertTrue(Integer.parseInt(browser.text(By.id("largest-batch"))) > 1, "the rows ran in batches");
        String disagreement = browser.text(By.id("disagreement-count"));
        assertTrue(disagreement.matches("The versions disagree on \\d+ of 450 rows\\."), disagreement);
        browser.scrollTo(By.id("confusion-1.0.0"));
        browser.screenshot("evaluation-result");
        browser.scrollTo(By.id("comparison"));
        browser.screenshot("evaluation-compare");
    }
}
