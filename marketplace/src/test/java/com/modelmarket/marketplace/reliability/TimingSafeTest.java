package com.modelmarket.marketplace.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.auth.Secrets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Secrets are compared in constant time: the helper itself, and a scan of the main sources for an
 * ordinary comparison ({@code equals}, {@code Arrays.equals}, {@code Objects.equals},
 * {@code contentEquals}, {@code equalsIgnoreCase}, {@code compareTo}) with a secret-bearing operand
 * (a name made of token, password, secret, signature, hmac, digest or hash). No timing is measured:
 * the scan is what fails when someone writes {@code storedHash.equals(presented)}.
 */
class TimingSafeTest {

    /** Main sources of the product's modules, from the marketplace module's directory. */
    private static final List<Path> MAIN_SOURCES = List.of(Path.of("src", "main", "java"),
            Path.of("..", "billing", "src", "main", "java"), Path.of("..", "serving", "src", "main", "java"),
            Path.of("..", "migrations", "src", "main", "java"));

    private static final Set<String> SECRET_WORDS = Set.of("token", "tokens", "password", "passwords", "passwd",
            "secret", "secrets", "signature", "signatures", "hmac", "digest", "digests", "hash", "hashes");

    /**
     * Comparisons that match by name but hold no secret, each with its reason. A new entry needs the
     * same scrutiny as the code it excuses.
     */
    private static final Map<String, String> NOT_SECRETS = Map.of(
            "TokenService.java: TOKEN_TYPE.equals(claims.getString())", "the JWT 'typ' claim, a public constant",
            "RequestQueue.java: r.signature().equals(members.get().signature())", "a batch's tensor-shape signature, not a credential",
            "AppConfig.java: accessTokenTtl.compareTo(Duration.ofMinutes())", "a token's lifetime setting, not the token");

    private static final Pattern COMPARISON = Pattern.compile(
            "(\\.\\s*(equals|equalsIgnoreCase|contentEquals|compareTo|compareToIgnoreCase)\\s*\\()"
                    + "|(\\b(Arrays|Objects)\\s*\\.\\s*(equals|deepEquals|mismatch|compare)\\s*\\()");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*");

    @Test
    @DisplayName("the comparison helper matches equal secrets only, whatever their length or where they differ")
    void helper() {
        byte[] secret = Secrets.hmacSha256(new byte[32], "mmk_example");
        assertTrue(Secrets.constantTimeEquals(secret, secret.clone()));
        for (int i : new int[] {0, secret.length / 2, secret.length - 1}) {
            byte[] other = secret.clone();
            other[i] ^= 1;
            assertFalse(Secrets.constantTimeEquals(secret, other), "differs at byte " + i);
        }
        assertFalse(Secrets.constantTimeEquals(secret, java.util.Arrays.copyOf(secret, secret.length - 1)), "a prefix");
        assertFalse(Secrets.constantTimeEquals(secret, java.util.Arrays.copyOf(secret, secret.length + 1)), "an extension");
        assertFalse(Secrets.constantTimeEquals(secret, new byte[0]));
        assertTrue(Secrets.constantTimeEquals(new byte[0], new byte[0]));
        assertFalse(Secrets.constantTimeEquals(null, null), "missing values never match");
        assertFalse(Secrets.constantTimeEquals(secret, null));
        assertFalse(Secrets.constantTimeEquals(null, secret));
        // The helper delegates to the JDK's constant-time comparison rather than a loop that returns early.
        String helper = body(read(Path.of("src", "main", "java", "com", "modelmarket", "marketplace", "auth", "Secrets.java")),
                "constantTimeEquals");
        assertTrue(helper.contains("MessageDigest.isEqual("), helper);
        // Password hashes, the one secret compared in Java (API keys and refresh tokens are looked up by
        // their keyed digest), go through the helper.
        String passwords = read(Path.of("src", "main", "java", "com", "modelmarket", "marketplace", "auth", "PasswordHasher.java"));
        assertTrue(passwords.contains("Secrets.constantTimeEquals("), "PasswordHasher compares through Secrets");
    }

    @Test
    @DisplayName("the scan finds an ordinary comparison of a secret, and ignores constant-time ones")
    void scanCanFail() {
        List<String> found = scan("Sample.java", """
                class Sample {
                    boolean a(String presentedToken, String storedToken) { return presentedToken.equals(storedToken); }
                    boolean b(byte[] keyHash, byte[] actual) { return java.util.Arrays.equals(keyHash, actual); }
                    boolean c(String password, User u) { return Objects.equals(u.password(), password); }
                    boolean d(String sig, String expectedSignature) { return expectedSignature.contentEquals(sig); }
                    boolean e(Row row, String presented) { return row.secretHash().equalsIgnoreCase(presented); }
                    boolean f(byte[] hmac, byte[] other) { return Arrays.mismatch(hmac, other) < 0; }
                    boolean ok1(byte[] hash, byte[] actual) { return Secrets.constantTimeEquals(hash, actual); }
                    boolean ok2(byte[] digest, byte[] actual) { return MessageDigest.isEqual(digest, actual); }
                    boolean ok3(String name) { return "password".equals(name); } // a literal is no secret
                    // storedToken.equals(presented) in a comment is no code
                }
                """);
        assertEquals(6, found.size(), String.join("\n", found));
        assertTrue(found.get(0).contains("presentedToken.equals(storedToken)"), found.get(0));
    }

    @Test
    @DisplayName("no main source compares a token, password, secret, signature, HMAC, digest or hash with equals")
    void mainSourcesCompareSecretsInConstantTime() throws IOException {
        List<String> found = new ArrayList<>();
        int files = 0;
        for (Path root : MAIN_SOURCES) {
            if (!Files.isDirectory(root)) {
                continue;
            }
            try (Stream<Path> paths = Files.walk(root)) {
                for (Path file : paths.filter(p -> p.toString().endsWith(".java")).toList()) {
                    files++;
                    found.addAll(scan(file.getFileName().toString(), read(file)));
                }
            }
        }
        assertTrue(files > 100, "scanned only " + files + " files: wrong directory?");
        List<String> unexcused = found.stream().filter(f -> !NOT_SECRETS.containsKey(f.replaceAll(" \\(line \\d+\\)", ""))).toList();
        assertEquals(List.of(), unexcused, "compare secrets with Secrets.constantTimeEquals (or excuse a false match in NOT_SECRETS)");
        System.out.println("TimingSafeTest: scanned " + files + " main source files; " + found.size()
                + " name matches, all excused as non-secrets: " + NOT_SECRETS.keySet());
    }

    /** Each comparison in {@code source} with a secret-bearing operand, as "File.java: receiver.equals(args) (line n)". */
    static List<String> scan(String fileName, String source) {
        String code = stripCommentsAndLiterals(source);
        List<String> found = new ArrayList<>();
        Matcher m = COMPARISON.matcher(code);
        while (m.find()) {
            int open = m.end() - 1;
            int close = matching(code, open);
            String args = code.substring(open + 1, close);
            String receiver = m.group(1) != null ? receiver(code, m.start()) : "";
            String method = m.group(1) != null ? m.group(2) : m.group(4) + "." + m.group(5);
            if (secretBearing(receiver) || secretBearing(args)) {
                String call = (receiver.isEmpty() ? "" : receiver + ".") + method + "(" + args.replaceAll("\\s+", " ") + ")";
                int line = (int) code.substring(0, m.start()).chars().filter(c -> c == '\n').count() + 1;
                found.add(fileName + ": " + call.replaceAll("\\(\\s*[^()]*?\\s*\\)(?=[.)])", "()") + " (line " + line + ")");
            }
        }
        return found;
    }

    /** The expression before {@code dot}: identifiers, dots and balanced brackets, read backwards. */
    private static String receiver(String code, int dot) {
        int i = dot - 1;
        int depth = 0;
        while (i >= 0) {
            char c = code.charAt(i);
            if (c == ')' || c == ']') {
                depth++;
            } else if (c == '(' || c == '[') {
                if (depth == 0) {
                    break;
                }
                depth--;
            } else if (depth == 0 && !(Character.isJavaIdentifierPart(c) || c == '.')) {
                break;
            }
            i--;
        }
        return code.substring(i + 1, dot).trim();
    }

    private static int matching(String code, int open) {
        int depth = 0;
        for (int i = open; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        return code.length() - 1;
    }

    /** Whether an identifier in {@code expression}, split into its camelCase or snake_case words, names a secret. */
    private static boolean secretBearing(String expression) {
        Matcher m = IDENTIFIER.matcher(expression);
        while (m.find()) {
            for (String word : m.group().split("_|(?<=[a-z0-9])(?=[A-Z])")) {
                if (SECRET_WORDS.contains(word.toLowerCase(Locale.ROOT))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Blanks comments and the contents of string and character literals, keeping line breaks. */
    static String stripCommentsAndLiterals(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        while (i < source.length()) {
            char c = source.charAt(i);
            if (source.startsWith("\"\"\"", i)) {
                int end = source.indexOf("\"\"\"", i + 3);
                end = end < 0 ? source.length() : end + 3;
                out.append("\"\"").append(source.substring(i, end).replaceAll("[^\n]", ""));
                i = end;
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < source.length() && source.charAt(j) != c) {
                    j += source.charAt(j) == '\\' ? 2 : 1;
                }
                out.append(c).append(c);
                i = Math.min(j + 1, source.length());
            } else if (source.startsWith("//", i)) {
                while (i < source.length() && source.charAt(i) != '\n') {
                    i++;
                }
            } else if (source.startsWith("/*", i)) {
                int end = source.indexOf("*/", i + 2);
                end = end < 0 ? source.length() : end + 2;
                out.append(source.substring(i, end).replaceAll("[^\n]", ""));
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static String body(String source, String method) {
        int at = source.indexOf(" " + method + "(");
        int open = source.indexOf('{', at);
        int depth = 0;
        for (int i = open; i < source.length(); i++) {
            if (source.charAt(i) == '{') {
                depth++;
            } else if (source.charAt(i) == '}' && --depth == 0) {
                return source.substring(open, i + 1);
            }
        }
        return source.substring(open);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
