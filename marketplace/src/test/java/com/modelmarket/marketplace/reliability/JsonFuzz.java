package com.modelmarket.marketplace.reliability;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.util.List;
import java.util.Random;

/**
 * Seeded generators of hostile request bodies: random JSON of every type, mutations of valid
 * bodies (fields dropped, retyped, duplicated, numbers made huge or odd), deep nesting and raw
 * byte garbage. Deterministic for a seed, so any failure can be replayed.
 */
final class JsonFuzz {

    private static final List<Object> ODD_VALUES = List.of("", " ", "\u0000", "NaN", "Infinity", "-1", "1e309",
            "\uD83D\uDE00", "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "%00", "a".repeat(5000),
            Long.MAX_VALUE, Long.MIN_VALUE, -1, 0, 1.5, 1e308, -1e308, Double.MIN_VALUE, true, false,
            // instants at the ends of java.time.Instant (which parses them) and of the platform's range
            "+1000000000-01-01T00:00:00Z", "-1000000000-01-01T00:00:00Z", "+1000000000-12-31T23:59:59.999999999Z",
            "+999999999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
            "1970-01-01T00:00:00Z", "2030-01-31T00:00:00+18:00", "+999999999-12-31",
            // integers beyond a long, which narrowing would wrap (2^64 + 5) or clamp
            new BigInteger("18446744073709551621"), new BigInteger("-18446744073709551621"),
            new BigInteger("9223372036854775808"), new BigInteger("1" + "0".repeat(40)), 1e19, -1e19);

    private final Random random;

    JsonFuzz(long seed) {
        this.random = new Random(seed);
    }

    /** A body as raw text: a mutated valid body most of the time, else random JSON or garbage. */
    String body(JsonObject valid) {
        int pick = random.nextInt(10);
        if (pick < 6) {
            return mutate(valid.copy()).encode();
        }
        if (pick < 8) {
            return io.vertx.core.json.Json.encode(json(0));
        }
        if (pick == 8) {
            return deep(1 + random.nextInt(3000));
        }
        return garbage();
    }

    JsonObject mutate(JsonObject body) {
        int rounds = 1 + random.nextInt(3);
        for (int r = 0; r < rounds; r++) {
            List<String> keys = List.copyOf(body.fieldNames());
            String key = keys.isEmpty() ? "x" : keys.get(random.nextInt(keys.size()));
            switch (random.nextInt(7)) {
                case 0 -> body.remove(key);
                case 6 -> body.put(key, confuse(body.getValue(key)));
                case 1 -> body.put(key, ODD_VALUES.get(random.nextInt(ODD_VALUES.size())));
                case 2 -> body.put(key, json(1));
                case 3 -> body.put("unexpected" + random.nextInt(5), json(1));
                case 4 -> body.put(key, new JsonArray().add(body.getValue(key)));
                default -> {
                    Object v = body.getValue(key);
                    if (v instanceof JsonObject o) {
                        body.put(key, mutate(o));
                    } else if (v instanceof JsonArray a && !a.isEmpty() && a.getValue(0) instanceof JsonObject o) {
                        a.set(0, mutate(o.copy()));
                    } else {
                        body.putNull(key);
                    }
                }
            }
        }
        return body;
    }

    /**
     * The value in another JSON type: a string for a number (and the reverse), an array for an
     * object, an object for an array, a number or string for a boolean.
     */
    Object confuse(Object value) {
        if (value instanceof Number n) {
            return random.nextBoolean() ? n.toString() : new JsonArray().add(n);
        }
        if (value instanceof String s) {
            return switch (random.nextInt(3)) {
                case 0 -> random.nextLong();
                case 1 -> new BigInteger(s.length() > 0 ? 64 + random.nextInt(64) : 70, random);
                default -> new JsonObject().put("value", s);
            };
        }
        if (value instanceof JsonObject o) {
            return random.nextBoolean() ? new JsonArray().add(o) : o.encode();
        }
        if (value instanceof JsonArray a) {
            return random.nextBoolean() ? new JsonObject().put("0", a.isEmpty() ? null : a.getValue(0)) : a.encode();
        }
        if (value instanceof Boolean b) {
            return random.nextBoolean() ? b.toString() : (b ? 1 : 0);
        }
        return json(1);
    }

    Object json(int depth) {
        int pick = random.nextInt(depth > 4 ? 6 : 8);
        return switch (pick) {
            case 0 -> null;
            case 1 -> random.nextBoolean();
            case 2 -> random.nextLong();
            case 3 -> random.nextDouble() * Math.pow(10, random.nextInt(300));
            case 4 -> ODD_VALUES.get(random.nextInt(ODD_VALUES.size()));
            case 5 -> Long.toString(random.nextLong(), 36);
            case 6 -> {
                JsonArray a = new JsonArray();
                for (int i = random.nextInt(5); i > 0; i--) {
                    a.add(json(depth + 1));
                }
                yield a;
            }
            default -> {
                JsonObject o = new JsonObject();
                for (int i = random.nextInt(5); i > 0; i--) {
                    o.put(Long.toString(random.nextInt(100), 36), json(depth + 1));
                }
                yield o;
            }
        };
    }

    private String deep(int depth) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\"a\":".repeat(depth)).append("1").append("}".repeat(random.nextBoolean() ? depth : depth / 2));
        return sb.toString();
    }

    private String garbage() {
        byte[] bytes = new byte[random.nextInt(200)];
        random.nextBytes(bytes);
        return switch (random.nextInt(4)) {
            case 0 -> new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
            case 1 -> "{\"a\": 1e" + (100000 + random.nextInt(1000000)) + "}";
            case 2 -> "{\"a\": " + "9".repeat(2000 + random.nextInt(5000)) + "}";
            default -> "[" + "1,".repeat(random.nextInt(1000)) + "]";
        };
    }
}
