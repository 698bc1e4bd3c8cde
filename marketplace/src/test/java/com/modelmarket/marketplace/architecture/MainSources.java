package com.modelmarket.marketplace.architecture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The marketplace's main Java sources, read once per test, with their comments blanked out. */
record MainSources(List<Source> files) {

    static final String ROOT_PACKAGE = "com.modelmarket.marketplace";
    private static final Path ROOT = Path.of("src", "main", "java", "com", "modelmarket", "marketplace");
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+);", Pattern.MULTILINE);

    /** One file: where it is, its package, its simple class name and its code without comments. */
    record Source(Path path, String packageName, String className, String code) {
    }

    static MainSources read() {
        try (Stream<Path> paths = Files.walk(ROOT)) {
            return new MainSources(paths.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> !p.getFileName().toString().equals("package-info.java"))
                    .sorted().map(MainSources::source).toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Source source(Path path) {
        try {
            String text = Files.readString(path);
            Matcher pkg = PACKAGE.matcher(text);
            if (!pkg.find()) {
                throw new IllegalStateException(path + " has no package declaration");
            }
            String name = path.getFileName().toString().replace(".java", "");
            return new Source(path, pkg.group(1), name, blankComments(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The code with comments removed, so a class may still mention what it must not do. */
    private static String blankComments(String text) {
        // String literals may hold "//" (URLs) or "/*" (globs); comments are cut only outside them.
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '"' || c == '\'') {
                int end = endOfLiteral(text, i);
                out.append(text, i, end);
                i = end;
            } else if (text.startsWith("//", i)) {
                int end = text.indexOf('\n', i);
                i = end < 0 ? text.length() : end;
            } else if (text.startsWith("/*", i)) {
                int end = text.indexOf("*/", i + 2);
                i = end < 0 ? text.length() : end + 2;
                out.append(' ');
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static int endOfLiteral(String text, int start) {
        char quote = text.charAt(start);
        if (quote == '"' && text.startsWith("\"\"\"", start)) {
            int end = text.indexOf("\"\"\"", start + 3);
            return end < 0 ? text.length() : end + 3;
        }
        int i = start + 1;
        while (i < text.length() && text.charAt(i) != quote && text.charAt(i) != '\n') {
            i += text.charAt(i) == '\\' ? 2 : 1;
        }
        return Math.min(text.length(), i + 1);
    }

}
