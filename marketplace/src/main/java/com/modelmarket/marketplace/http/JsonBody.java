package com.modelmarket.marketplace.http;

import com.modelmarket.marketplace.errors.BadRequestException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A request body read as a JSON object, with typed field readers whose errors name the field
 * (as a JSON pointer). Handlers turn bodies into small records with it.
 */
public final class JsonBody {

    private static final Pattern EMAIL = Pattern.compile("^[^@\\s]{1,64}@[^@\\s]+\\.[^@\\s]+$");
    private final JsonObject json;

    private JsonBody(JsonObject json) {
        this.json = json;
    }

    /** The body of {@code ctx} as a JSON object; 400 when absent, malformed or not an object. */
    public static JsonBody of(RoutingContext ctx) {
        Buffer buffer = ctx.body().buffer();
        if (buffer == null || buffer.length() == 0) {
            throw new BadRequestException("A JSON object body is required");
        }
        Object value = buffer.toJsonValue(); // a DecodeException becomes a 400 in FailureHandler
        if (!(value instanceof JsonObject object)) {
            throw new InvalidFieldException("/", "expected a JSON object");
        }
        rejectNul("", object);
        return new JsonBody(object);
    }

    /** The whole object. */
    public JsonObject json() {
        return json;
    }

    /**
     * PostgreSQL stores no NUL character (in text or jsonb), so a body holding one is refused up
     * front, naming where.
     */
    private static void rejectNul(String pointer, Object value) {
        if (value instanceof String s) {
            if (s.indexOf('\0') >= 0) {
                throw new InvalidFieldException(pointer.isEmpty() ? "/" : pointer, "must not contain NUL characters");
            }
        } else if (value instanceof JsonObject o) {
            for (Map.Entry<String, Object> e : o) {
                rejectNul(pointer + "/" + e.getKey().replace("\0", "?"), e.getKey());
                rejectNul(pointer + "/" + e.getKey(), e.getValue());
            }
        } else if (value instanceof JsonArray a) {
            for (int i = 0; i < a.size(); i++) {
                rejectNul(pointer + "/" + i, a.getValue(i));
            }
        }
    }

    public static JsonBody wrap(JsonObject json) {
        return new JsonBody(json);
    }

    public String requiredString(String field, int maxLength) {
        return optionalString(field, maxLength)
                .orElseThrow(() -> new InvalidFieldException("/" + field, "is required"));
    }

    public Optional<String> optionalString(String field, int maxLength) {
        Object value = json.getValue(field);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof String s)) {
            throw new InvalidFieldException("/" + field, "must be a string");
        }
        String trimmed = s.strip();
        if (trimmed.isEmpty()) {
            throw new InvalidFieldException("/" + field, "must not be empty");
        }
        if (trimmed.length() > maxLength) {
            throw new InvalidFieldException("/" + field, "must be at most " + maxLength + " characters");
        }
        return Optional.of(trimmed);
    }

    /** A string taken as given (no trimming): passwords, tokens. */
    public String requiredSecret(String field, int minLength, int maxLength) {
        Object value = json.getValue(field);
        if (value == null) {
            throw new InvalidFieldException("/" + field, "is required");
        }
        if (!(value instanceof String s)) {
            throw new InvalidFieldException("/" + field, "must be a string");
        }
        if (s.length() < minLength) {
            throw new InvalidFieldException("/" + field, "must be at least " + minLength + " characters");
        }
        if (s.length() > maxLength) {
            throw new InvalidFieldException("/" + field, "must be at most " + maxLength + " characters");
        }
        return s;
    }

    public String requiredEmail(String field) {
        String email = requiredString(field, 254).toLowerCase(java.util.Locale.ROOT);
        if (!EMAIL.matcher(email).matches()) {
            throw new InvalidFieldException("/" + field, "is not an e-mail address");
        }
        return email;
    }

    public Optional<JsonObject> optionalObject(String field) {
        Object value = json.getValue(field);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof JsonObject object)) {
            throw new InvalidFieldException("/" + field, "must be a JSON object");
        }
        return Optional.of(object);
    }

    /**
     * A whole number within bounds, or {@code fallback} when absent. The bounds are checked on the
     * number as written: a big integer beyond a {@code long} (18446744073709551621) or a double
     * beyond the range is refused, never narrowed (narrowing wraps or clamps it).
     */
    public long longValue(String field, long fallback, long min, long max) {
        Object value = json.getValue(field);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Number n)) {
            throw new InvalidFieldException("/" + field, "must be a whole number");
        }
        java.math.BigDecimal exact = exact(n);
        if (exact == null || exact.stripTrailingZeros().scale() > 0) {
            throw new InvalidFieldException("/" + field, "must be a whole number");
        }
        if (exact.compareTo(java.math.BigDecimal.valueOf(min)) < 0 || exact.compareTo(java.math.BigDecimal.valueOf(max)) > 0) {
            throw new InvalidFieldException("/" + field, "must be between " + min + " and " + max);
        }
        return exact.longValueExact();
    }

    /** The exact value of a parsed JSON number; null for a non-finite one. */
    private static java.math.BigDecimal exact(Number n) {
        if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte) {
            return java.math.BigDecimal.valueOf(n.longValue());
        }
        if (n instanceof java.math.BigInteger big) {
            return new java.math.BigDecimal(big);
        }
        if (n instanceof java.math.BigDecimal big) {
            return big;
        }
        double d = n.doubleValue();
        return Double.isFinite(d) ? new java.math.BigDecimal(d) : null;
    }

    /** A string that may be empty (descriptions), at most {@code maxLength} characters. */
    public Optional<String> optionalText(String field, int maxLength) {
        Object value = json.getValue(field);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof String s)) {
            throw new InvalidFieldException("/" + field, "must be a string");
        }
        if (s.length() > maxLength) {
            throw new InvalidFieldException("/" + field, "must be at most " + maxLength + " characters");
        }
        return Optional.of(s);
    }

    public <E extends Enum<E>> E requiredEnum(String field, Class<E> type) {
        String raw = requiredString(field, 64);
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(raw)) {
                return constant;
            }
        }
        throw new InvalidFieldException("/" + field, "must be one of " + allowed(type));
    }

    public Optional<Instant> optionalInstant(String field) {
        return optionalString(field, 64).map(raw -> instant(raw)
                .orElseThrow(() -> new InvalidFieldException("/" + field, INSTANT_RULE)));
    }

    /** What an instant in a request must look like. */
    public static final String INSTANT_RULE = "must be an ISO-8601 instant from 1970-01-01T00:00:00Z to "
            + "9999-12-31T23:59:59Z, such as 2030-01-31T00:00:00Z";
    private static final Instant EARLIEST = Instant.EPOCH;
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999999Z");

    /**
     * An ISO-8601 instant within the range every layer below can hold (dates, offsets, PostgreSQL
     * timestamps): {@code Instant.parse} accepts years up to ±1,000,000,000, which overflow
     * {@code OffsetDateTime} and PostgreSQL, so the edges are refused here, as caller errors.
     */
    public static Optional<Instant> instant(String raw) {
        try {
            Instant parsed = Instant.parse(raw);
            return parsed.isBefore(EARLIEST) || parsed.isAfter(LATEST) ? Optional.empty() : Optional.of(parsed);
        } catch (java.time.DateTimeException e) {
            return Optional.empty();
        }
    }

    /** An array of {@code minItems} to {@code maxItems} strings, each at most {@code maxLength} characters. */
    public Optional<List<String>> optionalStringList(String field, int minItems, int maxItems, int maxLength) {
        Object value = json.getValue(field);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof JsonArray array)) {
            throw new InvalidFieldException("/" + field, "must be an array of strings");
        }
        if (array.size() < minItems || array.size() > maxItems) {
            throw new InvalidFieldException("/" + field, "must hold between " + minItems + " and " + maxItems + " items");
        }
        List<String> items = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            if (!(array.getValue(i) instanceof String s) || s.isBlank() || s.length() > maxLength) {
                throw new InvalidFieldException("/" + field + "/" + i, "must be a non-empty string of at most "
                        + maxLength + " characters");
            }
            items.add(s.strip());
        }
        return Optional.of(items);
    }

    private static <E extends Enum<E>> String allowed(Class<E> type) {
        List<String> names = new ArrayList<>();
        for (E constant : type.getEnumConstants()) {
            names.add(constant.name().toLowerCase(java.util.Locale.ROOT));
        }
        return String.join(", ", names);
    }
}
