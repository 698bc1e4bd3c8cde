package com.modelmarket.marketplace.ui;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * Model cards are written by publishers and read by everyone: nothing in them may run in a reader's
 * browser. Each payload below would set {@code window.__xss} (and the title) if it ever became markup.
 */
@StartedPlatform
@DisplayName("Model cards cannot run script in the browser")
@Tag("slow")
class ModelCardSafetyTest {

    private static final String EVIL_CARD = String.join("\n",
            "# Totally normal model",
            "",
            "<img src=x onerror=\"window.__xss = 'img'; document.title = 'pwned'\">",
            "",
            "<script>window.__xss = 'script'; document.title = 'pwned';</script>",
            "",
            "**bold <svg onload=\"window.__xss = 'svg'\"></svg>** and `<iframe src=javascript:window.__xss=1>`",
            "",
            "[click me](javascript:window.__xss='link') and [data](data:text/html,<script>window.__xss=1</script>)",
            "",
            "![pic](javascript:window.__xss='image')",
            "",
            "| a | b |",
            "|---|---|",
            "| <img src=y onerror=\"window.__xss='cell'\"> | [safe](https://example.com/docs) |");

    private static Platform platform;
    private static Api api;
    private static Browser browser;
    private static String publisher;

    @BeforeAll
    static void start(Platform started, Api client) {
        Browser.assumeInstalled();
        platform = started;
        api = client;
        publisher = accessToken(api.signUp("Mallory Models", "mallory@evil.test", "mallory-password"));
        createModel(api, publisher, "evil-card", "public", new JsonObject()
                .put("name", "Evil <img src=x onerror=\"window.__xss='name'\">")
                .put("summary", "<script>window.__xss='summary'</script> a summary")
                .put("description", EVIL_CARD)
                .put("tags", new JsonArray().add("<b>tag</b>")));
        publishVersion(api, publisher, "evil-card", "1.0.0", "digits_mlp");
        browser = Browser.start(platform.port());
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
    }

    private static void assertNothingRan(String where) {
        // image errors and SVG loads fire asynchronously: give them time to happen
        browser.asyncJs("setTimeout(arguments[arguments.length - 1], 500);");
        assertEquals(Boolean.TRUE, browser.js("return window.__xss === undefined;"), where + ": window.__xss = " + browser.js("return String(window.__xss);"));
        assertFalse(browser.driver().getTitle().contains("pwned"), where + ": title " + browser.driver().getTitle());
        assertEquals(0L, browser.js("return document.querySelectorAll('main img, main script, main svg:not(.chart svg), main iframe, "
                + "main object, main embed, main style, a[href^=\"javascript:\" i], a[href^=\"data:\" i]').length;"), where + ": live markup");
    }

    @Test
    @DisplayName("the catalog and the model page show HTML from a card as text, and none of it runs")
    void modelPageShowsMarkupAsText() {
        browser.open("/?q=evil");
        String card = browser.awaitText(By.cssSelector("li[data-slug='evil-card']"), "Evil <img src=x onerror=");
        assertTrue(card.contains("<script>window.__xss='summary'</script> a summary") && card.contains("#<b>tag</b>"), card);
        assertNothingRan("catalog");

        browser.click(By.cssSelector("li[data-slug='evil-card'] a.card-link"));
        String text = browser.awaitText(By.id("model-description"), "Totally normal model");
        assertTrue(text.contains("<img src=x onerror=\"window.__xss = 'img'; document.title = 'pwned'\">"), text);
        assertTrue(text.contains("<script>window.__xss = 'script'; document.title = 'pwned';</script>"), text);
        assertEquals("<iframe src=javascript:window.__xss=1>", browser.text(By.cssSelector("#model-description code")));
        assertTrue(browser.text(By.cssSelector("#model-description strong")).startsWith("bold <svg"), "markup inside emphasis stays text");
        assertTrue(text.contains("click me") && text.contains("pic (image)"), "unsafe links keep their words: " + text);
        assertEquals(List.of("https://example.com/docs"), browser.js("return [...document.querySelectorAll('#model-description a')].map(a => a.href);"),
                "only the https link is a link");
        assertEquals("Evil <img src=x onerror=\"window.__xss='name'\">", browser.text(By.tagName("h1")));
        assertNothingRan("model page");

        @SuppressWarnings("unchecked")
        List<String> tags = (List<String>) browser.js("return [...new Set([...document.querySelectorAll('#model-description *')].map(e => e.tagName))];");
        @SuppressWarnings("unchecked")
        List<String> allowed = (List<String>) browser.asyncJs("const done = arguments[arguments.length - 1];"
                + "import('/js/markdown.js').then(m => done([...m.ALLOWED_TAGS]));");
        assertTrue(allowed.containsAll(tags), "only whitelisted elements: " + tags);
    }

    @Test
    @DisplayName("the publisher's live preview of the card is just as inert")
    void livePreviewIsInert() {
        browser.open("/login?next=/publisher/models/evil-card");
        browser.type(By.id("login-email"), "mallory@evil.test");
        browser.type(By.id("login-password"), "mallory-password");
        browser.click(By.id("login-submit"));
        browser.awaitText(By.tagName("h1"), "Manage Evil");
        browser.awaitText(By.id("card-preview"), "<script>window.__xss = 'script'");
        browser.paste(By.id("card-description"), "<img src=z onerror=\"window.__xss='preview'\"> **typed**");
        browser.awaitText(By.cssSelector("#card-preview strong"), "typed");
        assertNothingRan("preview");
    }

    @Test
    @DisplayName("the renderer turns hostile Markdown into whitelisted elements and http(s)/mailto links only, in linear time")
    void rendererWhitelist() {
        browser.open("/");
        @SuppressWarnings("unchecked")
        Map<String, Object> result = (Map<String, Object>) browser.asyncJs(String.join("\n",
                "const done = arguments[arguments.length - 1];",
                "import('/js/markdown.js').then(m => {",
                "  const cases = [",
                "    '<script>window.__xss=1</script>', '<a href=\"javascript:window.__xss=1\">x</a>', '<svg onload=window.__xss=1>',",
                "    '[x](javascript:window.__xss=1)', '[x](JaVaScRiPt:window.__xss=1)', '[x]( javascript:window.__xss=1)',",
                "    '[x](java\\tscript:window.__xss=1)', '[x](java&#115;cript:window.__xss=1)', '[x](data:text/html;base64,PHNjcmlwdD4=)',",
                "    '[x](vbscript:msgbox(1))', '[x](//evil.example/)', '[x](/relative)', '<javascript:window.__xss=1>',",
                "    '![x](javascript:window.__xss=1)', '[x](https://ok.example/a?b=1 \"title\")', '<https://auto.example/>',",
                "    '[mail](mailto:someone@example.com)', '```\\n<script>window.__xss=1</script>\\n```',",
                "    '> <style>body{display:none}</style>', '- <b onmouseover=window.__xss=1>x</b>\\n  - nested [y](javascript:1)',",
                "    '| <img src=x onerror=window.__xss=1> | b |\\n|---|:-:|\\n| 1 | 2 |', '[a [b](javascript:1)](https://ok.example/)'",
                "  ];",
                "  const bad = [];",
                "  const hrefs = [];",
                "  for (const source of cases) {",
                "    const box = document.createElement('div');",
                "    box.append(m.renderMarkdown(source));",
                "    for (const e of box.querySelectorAll('*')) {",
                "      if (!m.ALLOWED_TAGS.includes(e.tagName)) bad.push(source + ' -> <' + e.tagName + '>');",
                "      for (const a of e.attributes) {",
                "        if (!m.ALLOWED_ATTRIBUTES.includes(a.name)) bad.push(source + ' -> @' + a.name);",
                "      }",
                "      if (e.tagName === 'A') hrefs.push(e.getAttribute('href'));",
                "    }",
                "  }",
                "  const started = performance.now();",
                "  for (const hostile of ['*a '.repeat(40000), '['.repeat(100000), '`a'.repeat(50000), '_x '.repeat(40000),",
                "                         '> '.repeat(5000) + 'x', '- '.repeat(5000) + 'x', '~~a '.repeat(30000)]) {",
                "    document.createElement('div').append(m.renderMarkdown(hostile));",
                "  }",
                "  done({bad, hrefs, millis: performance.now() - started, xss: String(window.__xss)});",
                "});"));
        assertEquals(List.of(), result.get("bad"), "elements or attributes outside the whitelist");
        assertEquals(List.of("https://ok.example/a?b=1", "https://auto.example/", "mailto:someone@example.com", "https://ok.example/"),
                result.get("hrefs"), "the only links made");
        assertEquals("undefined", result.get("xss"));
        assertTrue(((Number) result.get("millis")).doubleValue() < 5000, "hostile inputs took " + result.get("millis") + " ms");
    }
}
