package com.modelmarket.marketplace.inference;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.modelmarket.serving.model.DataType;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.jackson.JacksonCodec;
import java.nio.charset.StandardCharsets;

/**
 * A pull reader of JSON over bytes for {@link InferenceEnvelope}'s one pass, allocating nothing but
 * the strings asked for: creating a Jackson parser cost 0.7 KB per request. It reads a strict
 * subset of what Vert.x's Jackson parser takes — structural JSON; strings of printable ASCII without
 * escapes; numbers of the JSON grammar up to 400 characters; whole numbers up to 18 digits — and
 * throws {@link #GIVE_UP} at anything else (comments, escapes, other characters, deeper than 60
 * levels, malformed text, anything at or past one of the limits Vert.x's parser applies: names,
 * strings, numbers, nesting, the document's length), so that the body goes to the tree parser, which accepts or refuses it
 * in its own words. What it reads means what Jackson's tokens mean: the same token kinds, the same
 * text, the same {@code long} for a whole number and the correctly rounded {@code double} for any
 * other (the fast exact path for up to 15 digits and powers of ten up to 22, {@link
 * Double#parseDouble} beyond, as Jackson's parsers are correctly rounded too).
 */
final class JsonCursor {

    /** Thrown where the cursor does not read on; no stack trace, made once. */
    static final RuntimeException GIVE_UP = new RuntimeException("not read in one pass", null, false, false) {
    };

    /** The limits of Vert.x's parser (its defaults, or what system properties made them). */
    private static final StreamReadConstraints LIMITS = vertxLimits();
    private static final int MAX_DEPTH = Math.min(60, LIMITS.getMaxNestingDepth() - 1);
    private static final int MAX_NUMBER = Math.min(400, LIMITS.getMaxNumberLength() - 1);
    private static final int MAX_NAME = Math.min(1000, LIMITS.getMaxNameLength() - 1);
    private static final int MAX_STRING = Math.min(1_000_000, LIMITS.getMaxStringLength() - 1);
    /** Documents the cursor reads at all: none when Vert.x's parser counts tokens (the cursor does not). */
    private static final long MAX_DOCUMENT = LIMITS.hasMaxTokenCount() ? -1
            : LIMITS.hasMaxDocumentLength() ? LIMITS.getMaxDocumentLength() - 1 : Long.MAX_VALUE;
    private static final double[] POWERS = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    /** Field names the envelope reads, returned as these constants; any other name is {@link #OTHER}. */
    private static final String[] NAMES = {"id", "inputs", "outputs", "parameters", "name", "datatype", "shape", "data",
            "binary_data_size", "binary_data_output", "binary_data", "label"};
    static final String OTHER = new String("(another field)");

    private final byte[] b;
    private int pos;
    private final int end;
    private int depth;
    /** Bit d: level d is an object; bit d of {@link #started}: it has had an element. */
    private long objects;
    private long started;
    private boolean afterName;
    private boolean rootRead;
    private JsonToken current;
    private int textStart;
    private int textEnd;
    private long longValue;
    private double doubleValue;

    JsonCursor(byte[] bytes, int offset, int length) {
        if (length > MAX_DOCUMENT) {
            throw GIVE_UP;
        }
        this.b = bytes;
        this.pos = offset;
        this.end = offset + length;
    }

    private static StreamReadConstraints vertxLimits() {
        try (JsonParser parser = JacksonCodec.createParser(Buffer.buffer("{}"))) {
            return parser.streamReadConstraints();
        } catch (java.io.IOException e) {
            return StreamReadConstraints.builder().maxNestingDepth(1).build(); // unknown limits: the cursor reads nothing
        }
    }

    JsonToken currentToken() {
        return current;
    }

    /** The next value token, or an end of array; null after the root value (which must then end the text). */
    JsonToken nextToken() {
        space();
        if (depth == 0) {
            if (rootRead) {
                if (pos != end) {
                    throw GIVE_UP; // trailing text
                }
                return current = null;
            }
            rootRead = true;
            return current = value();
        }
        if (inObject()) {
            if (!afterName) {
                throw GIVE_UP; // a name comes first (not a path the envelope takes)
            }
            afterName = false;
            return current = value();
        }
        if (at() == ']') {
            pos++;
            depth--;
            return current = JsonToken.END_ARRAY;
        }
        if (startedHere()) {
            expect(',');
            space();
        }
        markStarted();
        return current = value();
    }

    /** The next field's name (one of the known constants, or {@link #OTHER}), or null at the end of the object. */
    String nextFieldName() {
        if (depth == 0 || !inObject() || afterName) {
            throw GIVE_UP;
        }
        space();
        if (at() == '}') {
            pos++;
            depth--;
            current = JsonToken.END_OBJECT;
            return null;
        }
        if (startedHere()) {
            expect(',');
            space();
        }
        markStarted();
        expect('"');
        string();
        if (textEnd - textStart > MAX_NAME) {
            throw GIVE_UP;
        }
        space();
        expect(':');
        afterName = true;
        current = JsonToken.FIELD_NAME;
        return name(textStart, textEnd);
    }

    /** Skips the object or array the cursor stands on (nothing for a scalar). */
    void skipChildren() {
        if (current != JsonToken.START_OBJECT && current != JsonToken.START_ARRAY) {
            return;
        }
        int level = depth - 1;
        while (depth > level) {
            if (inObject() && !afterName) {
                nextFieldName();
            } else {
                nextToken();
            }
        }
    }

    String getText() {
        return new String(b, textStart, textEnd - textStart, StandardCharsets.ISO_8859_1); // printable ASCII only
    }

    long getLongValue() {
        return longValue;
    }

    double getDoubleValue() {
        return doubleValue;
    }

    /** The datatype the current string names; null for none known. */
    DataType datatype() {
        int length = textEnd - textStart;
        for (DataType type : DataType.values()) {
            String name = type.oipName();
            if (name.length() == length) {
                int i = 0;
                while (i < length && b[textStart + i] == name.charAt(i)) {
                    i++;
                }
                if (i == length) {
                    return type;
                }
            }
        }
        return null;
    }

    private boolean inObject() {
        return (objects & (1L << depth)) != 0;
    }

    private boolean startedHere() {
        return (started & (1L << depth)) != 0;
    }

    private void markStarted() {
        started |= 1L << depth;
    }

    private void push(boolean object) {
        if (depth == MAX_DEPTH) {
            throw GIVE_UP;
        }
        depth++;
        long bit = 1L << depth;
        objects = object ? objects | bit : objects & ~bit;
        started &= ~bit;
    }

    private JsonToken value() {
        int c = at();
        switch (c) {
            case '{' -> {
                pos++;
                push(true);
                return JsonToken.START_OBJECT;
            }
            case '[' -> {
                pos++;
                push(false);
                return JsonToken.START_ARRAY;
            }
            case '"' -> {
                pos++;
                string();
                return JsonToken.VALUE_STRING;
            }
            case 't' -> {
                literal("true");
                return JsonToken.VALUE_TRUE;
            }
            case 'f' -> {
                literal("false");
                return JsonToken.VALUE_FALSE;
            }
            case 'n' -> {
                literal("null");
                return JsonToken.VALUE_NULL;
            }
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw GIVE_UP;
            }
        }
    }

    /** A string's text after its opening quote: printable ASCII, no escapes. */
    private void string() {
        textStart = pos;
        while (pos < end) {
            byte c = b[pos];
            if (c == '"') {
                textEnd = pos++;
                if (textEnd - textStart > MAX_STRING) {
                    throw GIVE_UP;
                }
                return;
            }
            if (c < 0x20 || c > 0x7e || c == '\\') {
                throw GIVE_UP;
            }
            pos++;
        }
        throw GIVE_UP;
    }

    private void literal(String word) {
        if (end - pos < word.length()) {
            throw GIVE_UP;
        }
        for (int i = 0; i < word.length(); i++) {
            if (b[pos + i] != word.charAt(i)) {
                throw GIVE_UP;
            }
        }
        pos += word.length();
    }

    /** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    private JsonToken number() {
        int start = pos;
        boolean negative = b[pos] == '-';
        if (negative) {
            pos++;
        }
        long mantissa = 0;
        int digits = 0; // significant digits in the mantissa
        boolean exact = true; // every digit in the mantissa
        if (at() == '0') {
            pos++;
            if (isDigit(at())) {
                throw GIVE_UP; // a leading zero: Jackson refuses it
            }
        } else if (isDigit(at())) {
            while (isDigit(at())) {
                int d = b[pos++] - '0';
                if (digits < 18) {
                    mantissa = mantissa * 10 + d;
                    digits += mantissa == 0 ? 0 : 1;
                } else {
                    exact = false;
                }
            }
        } else {
            throw GIVE_UP;
        }
        int intEnd = pos;
        int scale = 0;
        boolean integral = true;
        if (at() == '.') {
            integral = false;
            pos++;
            if (!isDigit(at())) {
                throw GIVE_UP;
            }
            while (isDigit(at())) {
                int d = b[pos++] - '0';
                if (digits < 18) {
                    mantissa = mantissa * 10 + d;
                    digits += mantissa == 0 ? 0 : 1;
                    scale--;
                } else {
                    exact = false;
                }
            }
        }
        long exponent = 0;
        if (at() == 'e' || at() == 'E') {
            integral = false;
            pos++;
            boolean negativeExponent = at() == '-';
            if (at() == '-' || at() == '+') {
                pos++;
            }
            if (!isDigit(at())) {
                throw GIVE_UP;
            }
            while (isDigit(at())) {
                exponent = Math.min(exponent * 10 + (b[pos++] - '0'), 100_000);
            }
            exponent = negativeExponent ? -exponent : exponent;
        }
        if (pos - start > MAX_NUMBER) {
            throw GIVE_UP;
        }
        if (integral) {
            if (!exact || intEnd - start > (negative ? 19 : 18)) {
                throw GIVE_UP; // beyond 18 digits: may not fit a long (Jackson's BigInteger)
            }
            longValue = negative ? -mantissa : mantissa;
            return JsonToken.VALUE_NUMBER_INT;
        }
        long power = exponent + scale;
        double value;
        if (exact && digits <= 15 && power >= -22 && power <= 22) {
            value = power >= 0 ? mantissa * POWERS[(int) power] : mantissa / POWERS[(int) -power]; // both exact, one rounding
            value = negative ? -value : value;
        } else {
            value = Double.parseDouble(new String(b, start, pos - start, StandardCharsets.ISO_8859_1));
        }
        doubleValue = value;
        return JsonToken.VALUE_NUMBER_FLOAT;
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    /** The byte at the cursor, -1 at the end. */
    private int at() {
        return pos < end ? b[pos] : -1;
    }

    private void expect(char c) {
        if (at() != c) {
            throw GIVE_UP;
        }
        pos++;
    }

    private void space() {
        while (pos < end) {
            byte c = b[pos];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private String name(int from, int to) {
        int length = to - from;
        for (String name : NAMES) {
            if (name.length() == length) {
                int i = 0;
                while (i < length && b[from + i] == name.charAt(i)) {
                    i++;
                }
                if (i == length) {
                    return name;
                }
            }
        }
        return OTHER;
    }
}
