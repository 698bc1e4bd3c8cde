package com.modelmarket.marketplace.catalog;

import java.util.Locale;

/**
 * Where a model version is in its life: draft → published → deprecated → retired (published may
 * also retire at once). Stored and shown in lower case ({@code "published"}); parsed once where it
 * enters (the database row, a route), compared as an enum everywhere else.
 */
public enum VersionState {
    DRAFT,
    PUBLISHED,
    DEPRECATED,
    RETIRED;

    /** The name the API and the database use. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static VersionState parse(String wire) {
        return valueOf(wire.toUpperCase(Locale.ROOT));
    }

    /** Whether a version in this state answers inference requests. */
    public boolean serves() {
        return this == PUBLISHED || this == DEPRECATED;
    }

    /** Whether a version may move from this state to {@code next}. */
    public boolean mayBecome(VersionState next) {
        return switch (next) {
            case PUBLISHED -> this == DRAFT;
            case DEPRECATED -> this == PUBLISHED;
            case RETIRED -> this == PUBLISHED || this == DEPRECATED;
            case DRAFT -> false;
        };
    }

    /** The audit log's verb for moving into this state. */
    public String verb() {
        return switch (this) {
            case PUBLISHED -> "publish";
            case DEPRECATED -> "deprecate";
            case RETIRED -> "retire";
            case DRAFT -> "draft";
        };
    }

    @Override
    public String toString() {
        return wire();
    }
}
