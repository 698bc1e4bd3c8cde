package com.modelmarket.serving.training;

/** JSON pointer (RFC 6901) helpers. */
final class Pointers {

    private Pointers() {}

    /** Escapes one reference token: {@code ~} becomes {@code ~0}, {@code /} becomes {@code ~1}. */
    static String escape(String token) {
        return token.replace("~", "~0").replace("/", "~1");
    }
}
