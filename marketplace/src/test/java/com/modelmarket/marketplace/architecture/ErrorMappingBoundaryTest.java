package com.modelmarket.marketplace.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Only the error mapping ({@code http}) builds HTTP answers for failures. Services, codecs and
 * readers throw domain exceptions; thin handlers ({@code *Routes}) may write successful responses
 * but fail with domain exceptions too. The scan looks at code, not comments.
 */
class ErrorMappingBoundaryTest {

    private static final String MAPPING_PACKAGE = MainSources.ROOT_PACKAGE + ".http";

    /** What building an HTTP failure looks like. */
    private static final Pattern HTTP_FAILURE = Pattern.compile(String.join("|",
            "\\bApiException\\b",
            "\\bHttpResponseStatus\\b",
            "\\bnew\\s+Problem\\s*\\(",
            "\\bProblems\\s*\\.",
            "\"Retry-After\"",
            "\"RateLimit(-Policy)?\"",
            "\"WWW-Authenticate\"",
            // a status code handed to an exception: new SomethingException(404, ...)
            "\\bnew\\s+\\w*Exception\\s*\\(\\s*[1-5]\\d\\d\\b"));

    /** Setting a status, which only handlers do. */
    private static final Pattern STATUS = Pattern.compile("\\.setStatusCode\\s*\\(");

    @Test
    @DisplayName("no class outside the error mapping constructs an HTTP status or header for a failure")
    void onlyTheMappingBuildsHttpFailures() {
        List<String> found = new ArrayList<>();
        for (MainSources.Source file : MainSources.read().files()) {
            if (file.packageName().equals(MAPPING_PACKAGE)) {
                continue;
            }
            scan(file, HTTP_FAILURE, found);
            if (!file.className().endsWith("Routes")) {
                scan(file, STATUS, found);
            }
        }
        assertEquals(List.of(), found);
    }

    @Test
    @DisplayName("the scan recognises a service that builds an HTTP failure")
    void recognisesHttpInAService() {
        List<String> found = new ArrayList<>();
        scan(new MainSources.Source(java.nio.file.Path.of("X.java"), "x", "XService",
                "throw new ApiException(410, \"gone\"); x.putHeader(\"Retry-After\", 1); throw new GoneException(410);"),
                HTTP_FAILURE, found);
        assertEquals(3, found.size(), found.toString());
    }

    private static void scan(MainSources.Source file, Pattern pattern, List<String> found) {
        Matcher m = pattern.matcher(file.code());
        while (m.find()) {
            found.add(file.path() + ": " + m.group());
        }
    }
}
