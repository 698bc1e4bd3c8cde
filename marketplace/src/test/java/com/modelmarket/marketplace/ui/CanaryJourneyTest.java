package com.modelmarket.marketplace.ui;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.freePlan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.canary.CanaryFixtures;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.support.ui.Select;

/**
 * Gates and canaries in the publisher console, in headless Chromium: the publisher sets an accuracy
 * gate, starts a canary of latest, sees both versions' live figures side by side after real calls,
 * promotes it, and sees a worse version refused with both figures, then overrides it.
 */
@StartedPlatform
@DisplayName("Gates and canaries in a real browser")
@Tag("slow")
class CanaryJourneyTest {

    private static final String EMAIL = "owner@canary-ui.test";
    private static final String PASSWORD = "publisher-password";
    private static final String MODEL = "bc-console";

    private static Api api;
    private static Browser browser;
    private static String consumerKey;

    @BeforeAll
    static void start(Platform platform, Api client) {
        Browser.assumeInstalled();
        api = client;
        String publisher = accessToken(api.signUp("Canary Console Labs", EMAIL, PASSWORD));
        CanaryFixtures.breastCancerDataset(api, publisher);
        createModel(api, publisher, MODEL, "public", new JsonObject().put("task", "tabular-classification")
                .put("name", "Breast cancer screening"));
        CanaryFixtures.addVersion(api, publisher, MODEL, "1.0.0", "breast_cancer_fair");
        assertEquals(200, CanaryFixtures.publish(api, publisher, MODEL, "1.0.0", null).statusCode());
        CanaryFixtures.addVersion(api, publisher, MODEL, "1.1.0", "breast_cancer_better");
        assertEquals(200, CanaryFixtures.publish(api, publisher, MODEL, "1.1.0", null).statusCode());
        assertEquals(200, api.send(HttpMethod.PUT, "/api/v1/models/" + MODEL + "/aliases/latest", publisher,
                new JsonObject().put("version", "1.0.0")).statusCode());
        CanaryFixtures.addVersion(api, publisher, MODEL, "1.2.0", "breast_cancer_mlp");
        String plan = freePlan(api, publisher, MODEL).getString("id");
        String consumer = accessToken(api.signUp("Screening Clinic", "owner@clinic.test", "clinic-password"));
        assertEquals(201, api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", MODEL).put("planId", plan)).statusCode());
        consumerKey = api.post("/api/v1/api-keys", consumer, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
        browser = Browser.start(platform.port());
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
    }

    @Test
    @DisplayName("a publisher sets a gate, starts a canary, reads both versions' figures, promotes, and overrides a refused worse version")
    void canaryJourney() {
        browser.logIn(EMAIL, PASSWORD, "/publisher/models/" + MODEL);
        browser.awaitText(By.tagName("h1"), "Manage");

        // the gate: accuracy on the breast-cancer dataset, at most 0.01 worse
        new Select(browser.find(By.id("gate-dataset"))).selectByIndex(1);
        browser.type(By.id("gate-max-drop"), "0.01");
        browser.click(By.id("gates-save"));
        browser.awaitText(By.id("gates-manager"), "Gates saved");

        // the canary: 1.1.0 takes half of latest's calls, by request
        new Select(browser.find(By.id("canary-version"))).selectByValue("1.1.0");
        browser.type(By.id("canary-percent"), "50");
        new Select(browser.find(By.id("canary-stickiness"))).selectByValue("request");
        browser.click(By.id("canary-start"));
        browser.awaitText(By.id("canary-running"), "1.1.0 50%");

        List<String[]> rows = CanaryFixtures.breastCancerRows();
        for (int i = 0; i < 60; i++) {
            HttpResponse<Buffer> r = Api.await(api.request(HttpMethod.POST, "/v2/models/" + MODEL + "/infer", consumerKey)
                    .putHeader("X-Request-Id", "console-call-" + i).sendJsonObject(CanaryFixtures.request(rows.get(i * 9))));
            assertEquals(200, r.statusCode(), r.bodyAsString());
        }
        browser.click(By.id("canary-refresh"));
        browser.awaitText(By.id("canary-running"), "Labelled accuracy");
        browser.waiting().withMessage(() -> "both versions' calls add up to 60: " + browser.bodyText()).until(d -> {
            var cells = browser.all(By.cssSelector("#canary-figures tbody tr td:nth-child(4)"));
            return cells.size() == 2 && cells.stream().mapToInt(c -> Integer.parseInt(c.getText().replace(",", ""))).sum() == 60;
        });
        var figures = browser.all(By.cssSelector("#canary-figures tbody tr"));
        assertTrue(figures.get(0).getText().startsWith("1.0.0") && figures.get(1).getText().startsWith("1.1.0"), figures.get(0).getText());
        for (var row : figures) {
            assertTrue(row.getText().contains("% of "), "labelled accuracy shown: " + row.getText());
            assertTrue(Integer.parseInt(row.findElement(By.cssSelector("td:nth-child(4)")).getText().replace(",", "")) > 0,
                    "calls on each side: " + row.getText());
        }
        assertTrue(browser.all(By.cssSelector("#canary-running figure.chart svg rect")).size() >= 2, "a bar per version");
        browser.scrollTo(By.id("canary-manager"));
        browser.screenshot("publisher-canary");

        browser.click(By.id("canary-promote"));
        browser.awaitText(By.id("canary-manager"), "Promoted: latest now answers with 1.1.0");
        assertEquals("1.1.0", api.get("/api/v1/models/" + MODEL, null).bodyAsJsonObject().getJsonObject("aliases").getString("latest"));

        // a worse version is refused with both figures; an override with a reason publishes it
        browser.click(By.cssSelector("button.publish[data-version='1.2.0']"));
        String refused = browser.awaitText(By.id("gate-failure"), "accuracy");
        assertTrue(refused.contains("1.1.0: 0.99") && refused.contains("1.2.0: 0.63"), refused);
        browser.scrollTo(By.id("gate-failure"));
        browser.screenshot("publisher-gate-refused");
        browser.type(By.id("override-reason"), "known regression, accepted for the demo");
        browser.click(By.id("override-submit"));
        browser.awaitText(By.id("flash"), "Version 1.2.0 is published");
        assertEquals("1.2.0", api.get("/api/v1/models/" + MODEL, null).bodyAsJsonObject().getJsonObject("aliases").getString("latest"));
    }
}
