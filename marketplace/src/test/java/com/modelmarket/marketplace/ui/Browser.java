package com.modelmarket.marketplace.ui;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Headless Chromium driven by Debian's chromedriver, pointed at a running platform.
 *
 * <p>Nothing is ever downloaded: the driver and the browser are given by path (Selenium Manager,
 * which would fetch them, does not run when both are set). Without them the calling test is
 * skipped. Paths can be changed with {@code -Dui.chromedriver=…} and {@code -Dui.chromium=…};
 * screenshots go to {@code -Dui.screenshots=DIR} (default {@code target/ui-screenshots}).
 */
final class Browser implements AutoCloseable {

    static final Path CHROMEDRIVER = Path.of(System.getProperty("ui.chromedriver", "/usr/bin/chromedriver"));
    static final Path CHROMIUM = Path.of(System.getProperty("ui.chromium", "/usr/bin/chromium"));
    static final Path SCREENSHOTS = Path.of(System.getProperty("ui.screenshots", "target/ui-screenshots"));
    private static final Duration PATIENCE = Duration.ofSeconds(20);
    // Only the WebDriver protocol is used, not CDP: no need to hear that no CDP binding matches this Chromium.
    private static final java.util.logging.Logger CDP_LOG = java.util.logging.Logger.getLogger("org.openqa.selenium.devtools.CdpVersionFinder");

    static {
        CDP_LOG.setLevel(java.util.logging.Level.SEVERE);
    }

    private final WebDriver driver;
    private final String base;
    private final Path profile;

    private Browser(WebDriver driver, String base, Path profile) {
        this.driver = driver;
        this.base = base;
        this.profile = profile;
    }

    /** Where files the page downloads (CSV exports) land. */
    Path downloads() {
        return profile.resolve("downloads");
    }

    /** Skips the calling test class when no browser is installed (CI installs one). */
    static void assumeInstalled() {
        Assumptions.assumeTrue(Files.isExecutable(CHROMEDRIVER), "no chromedriver at " + CHROMEDRIVER + " (apt-get install chromium-driver)");
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM), "no Chromium at " + CHROMIUM + " (apt-get install chromium)");
    }

    static Browser start(int port) {
        assumeInstalled();
        try {
            Path profile = Files.createTempDirectory("mm-ui-chromium");
            System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(CHROMEDRIVER.toFile())
                    .usingAnyFreePort()
                    .build();
            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM.toFile());
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-extensions", "--disable-features=Translate,MediaRouter",
                    "--lang=en-US", "--window-size=1200,800", "--user-data-dir=" + profile);
            options.setExperimentalOption("prefs", java.util.Map.of(
                    "download.default_directory", profile.resolve("downloads").toString(),
                    "download.prompt_for_download", false));
            WebDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().scriptTimeout(PATIENCE);
            return new Browser(driver, "http://127.0.0.1:" + port, profile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    WebDriver driver() {
        return driver;
    }

    String base() {
        return base;
    }

    /** Loads the app at a route ("/models/x") from scratch and waits for its first render. */
    void open(String route) {
        driver.get("about:blank"); // otherwise a URL that differs only in its fragment would not load again
        driver.get(base + "/#" + route);
        awaitRendered(route);
    }

    /** Moves to a route inside the running app (memory, such as the access token, is kept). */
    void go(String route) {
        js("window.location.hash = arguments[0];", route);
        awaitRendered(route);
    }

    /** Waits until the app has rendered this route. */
    void awaitRendered(String route) {
        waiting().withMessage(() -> "waiting for the route " + route + " to render").until(d -> Boolean.TRUE.equals(js(
                "const m = document.getElementById('main-content');"
                        + "return document.body.dataset.ready === 'true' && !m.hasAttribute('aria-busy') && m.dataset.route === arguments[0];",
                route)));
    }

    /** Forgets the session: the refresh cookie (whatever its path) and everything in the page's memory. */
    void forgetSession() {
        driver.get(base + "/health/live");
        ((ChromeDriver) driver).executeCdpCommand("Network.clearBrowserCookies", java.util.Map.of());
    }

    /** Polls; an element the page re-rendered between finding and reading it is found again at the next poll. */
    WebDriverWait waiting() {
        WebDriverWait wait = new WebDriverWait(driver, PATIENCE, Duration.ofMillis(50));
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        return wait;
    }

    WebElement find(By by) {
        return waiting().until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    List<WebElement> all(By by) {
        return driver.findElements(by);
    }

    void click(By by) {
        waiting().until(ExpectedConditions.elementToBeClickable(by)).click();
    }

    void type(By by, String text) {
        WebElement input = find(by);
        input.clear();
        input.sendKeys(text);
    }

    /** Sets a (long) field's value as a person pasting it would, without typing it key by key. */
    void paste(By by, String text) {
        WebElement input = find(by);
        js("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", input, text);
    }

    /** The element's text; a page that re-renders meanwhile is read again, not reported as stale. */
    String text(By by) {
        return waiting().ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .until(d -> d.findElement(by).isDisplayed() ? d.findElement(by).getText() : null);
    }

    /** Waits until the element's text contains the words; returns the whole text, read in the same step. */
    String awaitText(By by, String words) {
        return waiting().withMessage(() -> "waiting for '" + words + "' in " + by + "; page says: " + bodyText())
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .until(d -> {
                    String text = d.findElement(by).getText();
                    return text.contains(words) ? text : null;
                });
    }

    /** Waits as long as given (a training job, say) until the element's text contains the words; returns the whole text. */
    String awaitText(By by, String words, Duration patience) {
        return new WebDriverWait(driver, patience, Duration.ofMillis(100))
                .withMessage(() -> "waiting " + patience.toSeconds() + " s for '" + words + "' in " + by + "; page says: " + bodyText())
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .ignoring(org.openqa.selenium.NoSuchElementException.class)
                .until(d -> {
                    String text = d.findElement(by).getText();
                    return text.contains(words) ? text : null;
                });
    }

    /** Signs in on the login page and waits until the app shows the route {@code next}. */
    void logIn(String email, String password, String next) {
        open("/login?next=" + next);
        type(By.id("login-email"), email);
        type(By.id("login-password"), password);
        click(By.id("login-submit"));
        awaitText(By.id("who"), email);
        awaitRendered(next);
    }

    String bodyText() {
        try {
            return driver.findElement(By.tagName("body")).getText();
        } catch (RuntimeException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    Object asyncJs(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeAsyncScript(script, args);
    }

    /** Confirms the open confirmation dialog; returns the words it showed. */
    String confirmDialog() {
        WebElement dialog = find(By.cssSelector("dialog[open]"));
        String words = dialog.getText();
        click(By.id("dialog-confirm"));
        waiting().until(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("dialog[open]")));
        return words;
    }

    /** A PNG of the viewport (1200×800) under the screenshots folder. */
    Path screenshot(String name) {
        try {
            js("document.activeElement && document.activeElement.blur && document.activeElement.blur();");
            Files.createDirectories(SCREENSHOTS);
            Path file = SCREENSHOTS.resolve(name + ".png");
            Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Scrolls an element to the top of the viewport, for a screenshot of that part of a page. */
    void scrollTo(By by) {
        js("arguments[0].scrollIntoView({block: 'start'}); window.scrollBy(0, -8);", find(by));
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temporary profile; the OS cleans up what is left
            }
        }
    }
}
